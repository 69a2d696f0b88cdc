// @ts-check
import { runAction } from './actions.js';
import { ApiError, getJson } from './api.js';
import { h, problem, replace, table } from './dom.js';
import { bytes, count, duration, timeCell } from './format.js';
import { ThroughputChart } from './throughput-chart.js';

/** How often the overview reads the server again. */
const REFRESH_MS = 2000;

const STATES = /** @type {const} */ (['pending', 'scheduled', 'processing', 'completed', 'failed']);

/**
 * @typedef {{ pending: number, scheduled: number, processing: number, completed: number, failed: number }} Counts
 * @typedef {{ name: string, paused: boolean, counts: Counts, latency_ms: number }} Queue
 * @typedef {{ id: string, host: string, pid: number, role: string, queues: string[], concurrency: number, in_flight: number, started_at: string, last_heartbeat_at: string }} Worker
 */

/**
 * Overview: counts per queue and state, throughput, latency, workers, Redis; read every REFRESH_MS
 * from GET /stats (GET /queues where /stats is missing) and GET /workers.
 * @param {HTMLElement} root
 */
export function overviewView(root) {
  const updated = h('p', { class: 'muted updated' }, 'Loading…');
  const summary = h('div', { class: 'cards' });
  const queues = h('div');
  const chart = new ThroughputChart();
  const chartNote = h('p', { class: 'muted' });
  const chartPanel = h('div', {}, chart.element, chartNote);
  const workers = h('div');
  replace(
    root,
    h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, 'Overview'), updated),
    h('section', { 'aria-labelledby': 'summary-h' }, h('h2', { id: 'summary-h', class: 'visually-hidden' }, 'Summary'), summary),
    h('section', { 'aria-labelledby': 'queues-h' }, h('h2', { id: 'queues-h' }, 'Queues'), queues),
    h('section', { 'aria-labelledby': 'throughput-h' }, h('h2', { id: 'throughput-h' }, 'Throughput, last hour'), chartPanel),
    h('section', { 'aria-labelledby': 'workers-h' }, h('h2', { id: 'workers-h' }, 'Workers'), workers),
  );

  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** GET /stats' 404 once seen (a server without it): not asked again; the counts come from GET /queues. */
  /** @type {ApiError | null} */
  let statsMissing = null;

  async function refresh() {
    const [statsResult, workersResult] = await Promise.allSettled([statsMissing ? Promise.reject(statsMissing) : getJson('/stats'), getJson('/workers')]);
    if (stopped) return;
    /** @type {any} */
    const stats = statsResult.status === 'fulfilled' ? statsResult.value : null;
    if (statsResult.status === 'rejected' && statsResult.reason instanceof ApiError && statsResult.reason.missingRoute) statsMissing = statsResult.reason;
    /** @type {Queue[] | null} */
    let queueList = stats?.queues ?? null;
    /** @type {unknown} */
    let queueError = statsResult.status === 'rejected' ? statsResult.reason : null;
    if (!stats) {
      try {
        queueList = (await getJson('/queues')).queues;
        queueError = null;
      } catch (err) {
        queueError = err;
      }
      if (stopped) return;
    }
    renderSummary(stats, queueList, workersResult.status === 'fulfilled' ? workersResult.value.workers : null);
    if (queueList) renderQueues(queueList);
    else replace(queues, problem(queueError, 'Queue counts'));
    if (stats?.throughput) {
      chart.update(stats.throughput);
      // processed counts completed and failed tasks together.
      chartNote.textContent =
        `In the last hour: ${count(stats.processed.last_hour)} finished, ${count(stats.failed.last_hour)} of them failed. ` +
        `In the last minute: ${count(stats.processed.last_minute)} finished, ${count(stats.failed.last_minute)} of them failed.`;
    } else {
      replace(chartNote, problem(statsResult.status === 'rejected' ? statsResult.reason : new Error('no throughput in the answer'), 'Throughput'));
    }
    if (workersResult.status === 'fulfilled') renderWorkers(workersResult.value.workers);
    else replace(workers, problem(workersResult.reason, 'The worker list'));
    updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}; refreshes every ${REFRESH_MS / 1000} s`;
  }

  /**
   * @param {any} stats
   * @param {Queue[] | null} queueList
   * @param {Worker[] | null} workerList
   */
  function renderSummary(stats, queueList, workerList) {
    /** @type {Counts | null} */
    const totals = stats?.counts ?? (queueList ? sumCounts(queueList) : null);
    const cards = [];
    for (const state of STATES) cards.push(card(state, totals ? count(totals[state]) : '—', state));
    const latency = stats ? stats.latency_ms : queueList ? Math.max(0, ...queueList.map((q) => q.latency_ms)) : null;
    cards.push(card('latency', latency === null ? '—' : duration(latency), 'latency', 'age of the oldest due task'));
    const workerCount = workerList ? workerList.length : (stats?.workers ?? null);
    cards.push(card('workers', workerCount === null ? '—' : count(workerCount), 'workers'));
    if (stats?.redis) cards.push(card('Redis', `${bytes(stats.redis.used_memory)}`, 'redis', `version ${stats.redis.version}`));
    const paused = queueList?.filter((q) => q.paused).map((q) => q.name) ?? [];
    cards.push(card('paused queues', queueList ? (paused.length ? paused.join(', ') : 'none') : '—', 'paused'));
    replace(summary, cards);
  }

  /** @param {Queue[]} list */
  function renderQueues(list) {
    // Rows are rebuilt on each refresh; the focused button is found again by its action and queue.
    const focused = document.activeElement instanceof HTMLElement && queues.contains(document.activeElement) ? document.activeElement.dataset.focusKey : undefined;
    const tbody = h(
      'tbody',
      {},
      list.map((q) =>
        h(
          'tr',
          { 'data-queue': q.name },
          h('th', { scope: 'row' }, q.name),
          STATES.map((s) => h('td', { class: 'num', 'data-state': s }, count(q.counts[s]))),
          h('td', { class: 'num' }, duration(q.latency_ms)),
          h('td', {}, q.paused ? h('span', { class: 'badge badge-paused' }, 'paused') : h('span', { class: 'badge badge-running' }, 'running')),
          h(
            'td',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                'data-focus-key': `pause:${q.name}`,
                onclick: () => void pauseOrResume(q),
              },
              q.paused ? `Resume ${q.name}` : `Pause ${q.name}`,
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                'data-focus-key': `retry:${q.name}`,
                disabled: q.counts.failed === 0,
                onclick: () => void retryFailed(q.name),
              },
              `Retry failed in ${q.name}`,
            ),
          ),
        ),
      ),
    );
    if (list.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 9 }, 'No queue has tasks yet.')));
    replace(queues, table('Tasks per queue and state', ['Queue', 'Pending', 'Scheduled', 'Processing', 'Completed', 'Failed', 'Latency', 'State', 'Actions'], tbody, 'queues'));
    if (focused) /** @type {HTMLElement | null} */ (queues.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`))?.focus();
  }

  /** @param {Worker[]} list */
  function renderWorkers(list) {
    const tbody = h(
      'tbody',
      {},
      list.map((w) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, h('code', {}, w.id)),
          h('td', {}, `${w.host} (pid ${w.pid})`),
          h('td', {}, w.role),
          h('td', {}, w.queues.join(', ')),
          h(
            'td',
            {},
            h('meter', { min: 0, max: Math.max(1, w.concurrency), value: w.in_flight, 'aria-label': `load of ${w.id}` }),
            ` ${w.in_flight} / ${w.concurrency}`,
          ),
          h('td', {}, timeCell(w.started_at)),
          h('td', {}, timeCell(w.last_heartbeat_at)),
        ),
      ),
    );
    if (list.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 7 }, 'No worker process is running.')));
    replace(workers, table('Live worker processes', ['Worker', 'Host', 'Role', 'Queues', 'Load (running / slots)', 'Started', 'Last heartbeat'], tbody));
  }

  /** @param {Queue} q */
  async function pauseOrResume(q) {
    const verb = q.paused ? 'resume' : 'pause';
    const done = await runAction({
      title: q.paused ? `Resume queue ${q.name}` : `Pause queue ${q.name}`,
      message: q.paused ? `Workers will take tasks from ${q.name} again.` : `Workers stop taking new tasks from ${q.name}; running tasks finish. Tasks can still be submitted.`,
      confirm: q.paused ? 'Resume' : 'Pause',
      method: 'POST',
      path: `/queues/${encodeURIComponent(q.name)}/${verb}`,
      done: () => `Queue ${q.name} ${q.paused ? 'resumed' : 'paused'}.`,
    });
    if (done) await refresh();
  }

  /** @param {string} queue */
  async function retryFailed(queue) {
    const done = await runAction({
      title: `Retry failed tasks of ${queue}`,
      message: `Every failed task of queue ${queue} runs again with a fresh retry budget.`,
      confirm: 'Retry all',
      method: 'POST',
      path: '/tasks/retry-failed',
      query: { queue },
      done: (data) => `${data.retried} failed task${data.retried === 1 ? '' : 's'} of ${queue} queued again.`,
    });
    if (done) await refresh();
  }

  async function loop() {
    if (stopped) return;
    if (!document.hidden) await refresh().catch(() => undefined);
    if (!stopped) timer = setTimeout(loop, REFRESH_MS);
  }
  void loop();

  return {
    destroy() {
      stopped = true;
      clearTimeout(timer);
      chart.destroy();
    },
  };
}

/** @param {Queue[]} list */
function sumCounts(list) {
  /** @type {Counts} */
  const totals = { pending: 0, scheduled: 0, processing: 0, completed: 0, failed: 0 };
  for (const q of list) for (const s of STATES) totals[s] += q.counts[s];
  return totals;
}

/**
 * @param {string} label
 * @param {string} value
 * @param {string} kind
 * @param {string} [note]
 */
function card(label, value, kind, note) {
  return h('div', { class: `card card-${kind}`, 'data-card': kind }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, value), note ? h('div', { class: 'card-note muted' }, note) : null);
}
