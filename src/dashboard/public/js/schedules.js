// @ts-check
import { runAction } from './actions.js';
import { getJson } from './api.js';
import { h, problem, replace, table } from './dom.js';
import { badge, refreshRelativeTimes, timeCell } from './format.js';

/**
 * @typedef {{ id: string, name: string, cron: string, timezone: string, task: Record<string, any>, next_run_at: string | null, last_run_at: string | null, paused: boolean, created_at: string }} Schedule
 */

/**
 * Schedules (GET /schedules): next run, pause / resume, delete.
 * @param {HTMLElement} root
 */
export function schedulesView(root) {
  const list = h('div', {}, h('p', {}, 'Loading…'));
  const refreshButton = h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Refresh');
  replace(root, h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, 'Schedules'), h('div', { class: 'toolbar' }, refreshButton)), list);
  let stopped = false;

  async function load() {
    try {
      /** @type {Schedule[]} */
      const schedules = (await getJson('/schedules')).schedules;
      if (!stopped) render(schedules);
    } catch (err) {
      if (!stopped) replace(list, problem(err, 'Schedules'));
    }
  }

  /** @param {Schedule[]} schedules */
  function render(schedules) {
    const tbody = h(
      'tbody',
      {},
      schedules.map((s) =>
        h(
          'tr',
          { 'data-schedule-id': s.id },
          h('th', { scope: 'row' }, s.name || s.id),
          h('td', {}, h('code', {}, s.cron), ` (${s.timezone})`),
          h('td', {}, `${s.task.type}${s.task.queue && s.task.queue !== 'default' ? ` on ${s.task.queue}` : ''}`),
          h('td', {}, s.paused ? h('span', { class: 'muted' }, 'paused') : timeCell(s.next_run_at)),
          h('td', {}, timeCell(s.last_run_at)),
          h('td', {}, badge(s.paused ? 'paused' : 'active')),
          h(
            'td',
            { class: 'actions' },
            h('button', { type: 'button', class: 'secondary', onclick: () => void pauseOrResume(s) }, s.paused ? `Resume ${s.name || s.id}` : `Pause ${s.name || s.id}`),
            h('button', { type: 'button', class: 'danger', onclick: () => void remove(s) }, `Delete ${s.name || s.id}`),
          ),
        ),
      ),
    );
    if (schedules.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 7 }, 'No schedule yet (create one with POST /schedules).')));
    replace(list, table('Schedules', ['Schedule', 'Cron', 'Task', 'Next run', 'Last run', 'State', 'Actions'], tbody));
  }

  /** @param {Schedule} s */
  async function pauseOrResume(s) {
    const label = s.name || s.id;
    const done = await runAction({
      title: s.paused ? `Resume schedule ${label}` : `Pause schedule ${label}`,
      message: s.paused ? `${label} creates tasks again from its next run.` : `${label} creates no task until it is resumed.`,
      confirm: s.paused ? 'Resume' : 'Pause',
      method: 'POST',
      path: `/schedules/${encodeURIComponent(s.id)}/${s.paused ? 'resume' : 'pause'}`,
      done: () => `Schedule ${label} ${s.paused ? 'resumed' : 'paused'}.`,
    });
    if (done) await load();
  }

  /** @param {Schedule} s */
  async function remove(s) {
    const label = s.name || s.id;
    const done = await runAction({
      title: `Delete schedule ${label}`,
      message: `${label} is removed for good; tasks it already created stay.`,
      confirm: 'Delete',
      method: 'DELETE',
      path: `/schedules/${encodeURIComponent(s.id)}`,
      done: () => `Schedule ${label} deleted.`,
    });
    if (done) await load();
  }

  const clock = setInterval(() => refreshRelativeTimes(list), 5000);
  void load();
  return {
    destroy() {
      stopped = true;
      clearInterval(clock);
    },
  };
}
