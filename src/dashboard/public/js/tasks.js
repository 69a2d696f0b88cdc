// @ts-check
import { announce, runAction } from './actions.js';
import { ApiError, getJson, nextPageLink, request } from './api.js';
import { h, problem, replace, table } from './dom.js';
import { badge, duration, pretty, refreshRelativeTimes, timeCell } from './format.js';

const STATUSES = ['pending', 'processing', 'completed', 'failed'];
const PAGE_SIZE = 25;

/**
 * @typedef {{ queue?: string, status?: string, type?: string }} TaskFilters
 * @typedef {Record<string, any>} Task
 */

/** @param {string} id */
function taskHref(id) {
  return `#/tasks/${encodeURIComponent(id)}`;
}

/** @param {TaskFilters} filters */
function tasksHref(filters) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  const query = params.toString();
  return query ? `#/tasks?${query}` : '#/tasks';
}

/**
 * The task table: filters by queue, state and type (kept in the page's hash, so a view can be linked),
 * pages of PAGE_SIZE in GET /tasks' order (open tasks newest created first, then finished ones latest
 * finished first), following its `Link: rel="next"`; the cursors of the pages
 * seen are kept to go back.
 * @param {HTMLElement} root
 * @param {TaskFilters} filters
 */
export function tasksView(root, filters) {
  /** The query (`?...cursor=...`) of each page seen, the current one last; the first page has none. */
  /** @type {string[]} */
  const pages = [''];
  /** The next page's query, from the Link header; null on the last page. */
  /** @type {string | null} */
  let next = null;
  let stopped = false;
  // The chosen queue is an option from the start: GET /queues fills in the others later, and a filter
  // changed before it answers must keep the queue (the form reads this select's value).
  const queueSelect = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { id: 'filter-queue', name: 'queue' },
      h('option', { value: '' }, 'All queues'),
      filters.queue ? h('option', { value: filters.queue, selected: true }, filters.queue) : null,
    )
  );
  const statusSelect = /** @type {HTMLSelectElement} */ (
    h('select', { id: 'filter-status', name: 'status' }, h('option', { value: '' }, 'Any state'), STATUSES.map((s) => h('option', { value: s, selected: s === filters.status }, s)))
  );
  const typeInput = /** @type {HTMLInputElement} */ (h('input', { id: 'filter-type', name: 'type', type: 'text', value: filters.type ?? '', placeholder: 'e.g. echo', spellcheck: 'false', autocomplete: 'off' }));
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter tasks' },
      h('div', { class: 'field' }, h('label', { for: 'filter-queue' }, 'Queue'), queueSelect),
      h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'State'), statusSelect),
      h('div', { class: 'field' }, h('label', { for: 'filter-type' }, 'Type'), typeInput),
      h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Apply filters')),
    )
  );
  const retryAll = h('button', { type: 'button', class: 'secondary', onclick: () => void retryAllFailed() }, 'Retry all failed');
  const refreshButton = h('button', { type: 'button', class: 'secondary', onclick: () => void load(pages[pages.length - 1]) }, 'Refresh');
  const list = h('div', { 'aria-busy': 'true' });
  const newer = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'secondary', onclick: () => void previousPage() }, '← Newer'));
  const older = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'secondary', onclick: () => void nextPage() }, 'Older →'));
  // Says which page and how many tasks it holds; read out when it changes (the table itself is not).
  const pageLabel = h('span', { class: 'muted', role: 'status' });
  replace(
    root,
    h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, 'Tasks'), h('div', { class: 'toolbar' }, refreshButton, retryAll)),
    form,
    list,
    h('nav', { class: 'pager', 'aria-label': 'Pages of tasks' }, newer, pageLabel, older),
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const target = tasksHref({ queue: queueSelect.value, status: statusSelect.value, type: typeInput.value.trim() });
    if (window.location.hash !== target) {
      window.location.hash = target;
      return;
    }
    // The same filters again (no hashchange): read the first page again.
    pages.length = 1;
    void load('');
  });
  for (const select of [queueSelect, statusSelect]) select.addEventListener('change', () => form.requestSubmit());

  /** The queue filter lists the queues the server knows; without GET /queues there is none to offer. */
  async function loadQueues() {
    try {
      /** @type {{ name: string }[]} */
      const queues = (await getJson('/queues')).queues;
      const names = new Set(queues.map((q) => q.name));
      if (filters.queue) names.add(filters.queue);
      // In order, the chosen queue among them: the options after "All queues" are drawn anew.
      while (queueSelect.options.length > 1) queueSelect.remove(1);
      for (const name of [...names].sort()) queueSelect.append(h('option', { value: name, selected: name === filters.queue }, name));
    } catch (err) {
      if (!(err instanceof ApiError && err.missingRoute)) throw err;
      queueSelect.disabled = !filters.queue;
      queueSelect.title = 'this server has no named queues';
    }
  }

  /** @param {string} cursorQuery `cursor=...` of a Link, or '' for the first page */
  async function load(cursorQuery) {
    list.setAttribute('aria-busy', 'true');
    /** @type {number | null} */
    let shown = null;
    try {
      const query = { limit: PAGE_SIZE, status: filters.status, type: filters.type, queue: filters.queue, cursor: new URLSearchParams(cursorQuery).get('cursor') ?? undefined };
      const res = await request('GET', '/tasks', { query });
      if (stopped) return;
      const link = nextPageLink(res.headers);
      next = link ? new URL(link, window.location.origin).search : null;
      shown = res.data.length;
      render(/** @type {Task[]} */ (res.data));
    } catch (err) {
      if (stopped) return;
      next = null;
      replace(list, problem(err, 'the task list'));
    } finally {
      list.setAttribute('aria-busy', 'false');
      newer.disabled = pages.length <= 1;
      older.disabled = next === null;
      pageLabel.textContent = `Page ${pages.length}${shown === null ? '' : `: ${shown} task${shown === 1 ? '' : 's'}`}`;
    }
  }

  /** @param {Task[]} tasks */
  function render(tasks) {
    const tbody = h(
      'tbody',
      {},
      tasks.map((t) =>
        h(
          'tr',
          { 'data-task-id': t.id },
          h('th', { scope: 'row' }, h('a', { href: taskHref(t.id), class: 'mono', title: t.id }, shortId(t.id))),
          h('td', {}, t.type),
          h('td', {}, t.queue ?? 'default'),
          h('td', {}, badge(t.status === 'pending' && t.run_at && Date.parse(t.run_at) > Date.now() ? 'scheduled' : t.status)),
          h('td', { class: 'num' }, t.attempts),
          h('td', {}, timeCell(t.created_at)),
          h('td', {}, timeCell(t.updated_at)),
          h('td', { class: 'error-cell' }, t.status === 'failed' && t.error ? t.error : ''),
        ),
      ),
    );
    if (tasks.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 8 }, next ? 'No task on this page matches; try the next page.' : 'No task matches.')));
    replace(list, table('Tasks: open ones newest first, then finished ones latest finished first', ['ID', 'Type', 'Queue', 'State', 'Attempts', 'Created', 'Updated', 'Error'], tbody, 'tasks'));
  }

  async function nextPage() {
    if (!next) return;
    pages.push(next);
    await load(next);
  }

  async function previousPage() {
    if (pages.length <= 1) return;
    pages.pop();
    await load(pages[pages.length - 1]);
  }

  async function retryAllFailed() {
    const scope = [filters.queue && `queue ${filters.queue}`, filters.type && `type ${filters.type}`].filter(Boolean).join(' and ');
    const done = await runAction({
      title: 'Retry all failed tasks',
      message: `Every failed task${scope ? ` of ${scope}` : ''} runs again with a fresh retry budget.`,
      confirm: 'Retry all',
      method: 'POST',
      path: '/tasks/retry-failed',
      query: { queue: filters.queue, type: filters.type },
      done: (data) => `${data.retried} failed task${data.retried === 1 ? '' : 's'} queued again.`,
    });
    if (done) await load(pages[pages.length - 1]);
  }

  const clock = setInterval(() => refreshRelativeTimes(list), 5000);
  void loadQueues().catch(() => undefined);
  void load('');
  return {
    destroy() {
      stopped = true;
      clearInterval(clock);
    },
  };
}

/**
 * One task: fields, payload and result as pretty JSON, error, attempt history, actions. Read again
 * every 2 s while it may still change.
 * @param {HTMLElement} root
 * @param {string} id
 */
export function taskDetailView(root, id) {
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const copy = h('button', { type: 'button', class: 'secondary', onclick: () => void copyId() }, 'Copy id');
  const actions = h('div', { class: 'toolbar' });
  replace(
    root,
    h('p', {}, h('a', { href: '#/tasks' }, '← All tasks')),
    h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, 'Task ', h('code', { class: 'task-id' }, id)), h('div', { class: 'toolbar' }, copy, actions)),
    body,
  );
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {string | undefined} */
  let shownStatus;
  /** The version shown: unchanged tasks are not redrawn (a selection or focus inside would be lost). */
  /** @type {string | undefined} */
  let shownVersion;

  async function load() {
    try {
      /** @type {Task} */
      const task = await getJson(`/tasks/${encodeURIComponent(id)}`);
      if (stopped) return;
      render(task);
    } catch (err) {
      if (stopped) return;
      if (err instanceof ApiError && err.status === 404 && !err.missingRoute) {
        replace(body, h('p', { class: 'error' }, `No task has the id ${id} (it may have been deleted, or removed after its retention).`));
        replace(actions);
        return;
      }
      replace(body, problem(err, 'this task'));
    }
  }

  /** @param {Task} t */
  function render(t) {
    const version = `${t.updated_at}|${t.status}|${t.attempts}`;
    if (version === shownVersion) return;
    shownVersion = version;
    if (t.status !== shownStatus) {
      shownStatus = t.status;
      replace(
        actions,
        t.status === 'failed' ? h('button', { type: 'button', onclick: () => void retry() }, 'Retry task') : null,
        h('button', { type: 'button', class: 'danger', onclick: () => void remove() }, 'Delete task'),
      );
    }
    /** @type {[string, unknown][]} */
    const fields = [
      ['State', badge(t.status)],
      ['Type', t.type],
      ['Queue', t.queue ?? 'default'],
      ['Attempts', String(t.attempts)],
      ['Retries', `${t.retries} of ${t.max_retry}`],
      ['Priority', t.priority ?? 'normal'],
      ['Timeout', t.timeout_ms === undefined ? 'server default' : duration(t.timeout_ms)],
      ['Created', when(t.created_at)],
      ['Updated', when(t.updated_at)],
      ['Runs at', t.run_at ? when(t.run_at) : null],
      ['Started', t.started_at ? when(t.started_at) : null],
      ['Finished', t.completed_at ? when(t.completed_at) : null],
      ['Schedule', t.schedule_id ? h('span', {}, h('code', {}, t.schedule_id), t.scheduled_for ? ` (run for ${t.scheduled_for})` : '') : null],
    ];
    const history = /** @type {Task[]} */ (t.history ?? []);
    replace(
      body,
      h('dl', { class: 'fields' }, fields.filter(([, v]) => v !== null && v !== undefined).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, /** @type {any} */ (v))])),
      t.error ? h('section', { 'aria-labelledby': 'error-h' }, h('h2', { id: 'error-h' }, 'Error'), h('pre', { class: 'error-text' }, t.error)) : null,
      h('section', { 'aria-labelledby': 'payload-h' }, h('h2', { id: 'payload-h' }, 'Payload'), h('pre', { tabindex: 0, 'aria-labelledby': 'payload-h' }, pretty(t.payload))),
      t.result !== undefined ? h('section', { 'aria-labelledby': 'result-h' }, h('h2', { id: 'result-h' }, 'Result'), h('pre', { tabindex: 0, 'aria-labelledby': 'result-h' }, pretty(t.result))) : null,
      h(
        'section',
        { 'aria-labelledby': 'history-h' },
        h('h2', { id: 'history-h' }, 'Attempt history'),
        history.length === 0
          ? h('p', { class: 'muted' }, 'No attempt has ended yet.')
          : table(
              'Attempts, oldest first',
              ['Attempt', 'Outcome', 'Worker', 'Started', 'Ended', 'Took', 'Error'],
              h(
                'tbody',
                {},
                history.map((a) =>
                  h(
                    'tr',
                    {},
                    h('th', { scope: 'row' }, String(a.attempt)),
                    h('td', {}, badge(a.outcome)),
                    h('td', {}, a.worker_id ? h('code', {}, a.worker_id) : h('span', { class: 'muted' }, 'never started')),
                    h('td', {}, timeCell(a.started_at)),
                    h('td', {}, timeCell(a.ended_at)),
                    h('td', {}, a.started_at ? duration(Date.parse(a.ended_at) - Date.parse(a.started_at)) : '—'),
                    h('td', { class: 'error-cell' }, a.error ?? ''),
                  ),
                ),
              ),
            ),
      ),
    );
  }

  /** @param {string} iso */
  function when(iso) {
    return h('span', {}, timeCell(iso), h('span', { class: 'muted' }, ` (${iso})`));
  }

  async function copyId() {
    try {
      await navigator.clipboard.writeText(id);
      announce('Task id copied to the clipboard.');
    } catch {
      // No clipboard outside secure contexts: select the id so the user can copy it.
      const code = root.querySelector('.task-id');
      if (code) window.getSelection()?.selectAllChildren(code);
      announce('The id is selected: copy it with Ctrl+C (the clipboard is not available here).');
    }
  }

  async function retry() {
    const done = await runAction({
      title: 'Retry task',
      message: `Task ${id} runs again with a fresh retry budget.`,
      confirm: 'Retry',
      method: 'POST',
      path: `/tasks/${encodeURIComponent(id)}/retry`,
      done: () => `Task ${id} queued again.`,
    });
    if (done) await load();
  }

  async function remove() {
    // No reading while the task is deleted: it would answer 404 once it is gone.
    stopped = true;
    clearTimeout(timer);
    const done = await runAction({
      title: 'Delete task',
      message: `Task ${id} is removed for good; if it is running, it is stopped.`,
      confirm: 'Delete',
      method: 'DELETE',
      path: `/tasks/${encodeURIComponent(id)}`,
      done: () => `Task ${id} deleted.`,
    });
    if (done) {
      window.location.hash = '#/tasks';
    } else {
      stopped = false;
      void loop();
    }
  }

  async function loop() {
    if (stopped) return;
    if (!document.hidden) await load();
    if (!stopped) timer = setTimeout(loop, 2000);
  }
  void loop();
  return {
    destroy() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** @param {string} id */
function shortId(id) {
  const dot = id.lastIndexOf('.');
  const uuid = id.slice(dot + 1);
  return `${dot > 0 ? id.slice(0, dot + 1) : ''}${uuid.slice(0, 8)}`;
}
