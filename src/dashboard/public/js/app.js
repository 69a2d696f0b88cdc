// @ts-check
import { forgetKey, onKeyChange, storedKey } from './api.js';
import { announce } from './actions.js';
import { overviewView } from './overview.js';
import { schedulesView } from './schedules.js';
import { taskDetailView, tasksView } from './tasks.js';

/**
 * The dashboard's router: the hash names the view (#/, #/tasks?status=failed, #/tasks/<id>,
 * #/schedules), so views can be linked and the back button works. One view lives at a time; leaving
 * it stops its refresh loop.
 */

const root = /** @type {HTMLElement} */ (document.getElementById('view'));
const forget = /** @type {HTMLButtonElement} */ (document.getElementById('forget-key'));
/** @type {{ destroy(): void } | null} */
let current = null;
let firstRoute = true;

function route() {
  const hash = window.location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  current?.destroy();
  /** @type {string} */
  let view;
  const detail = /^\/tasks\/(.+)$/.exec(path);
  if (detail) {
    view = 'tasks';
    current = taskDetailView(root, decodeURIComponent(detail[1]));
  } else if (path === '/tasks') {
    view = 'tasks';
    current = tasksView(root, { queue: params.get('queue') ?? undefined, status: params.get('status') ?? undefined, type: params.get('type') ?? undefined });
  } else if (path === '/schedules') {
    view = 'schedules';
    current = schedulesView(root);
  } else {
    view = 'overview';
    current = overviewView(root);
  }
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    if (link.getAttribute('data-view') === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const heading = root.querySelector('h1');
  document.title = `${heading?.textContent ?? 'Dashboard'} · taskqueue`;
  // After a navigation, focus goes to the new view's heading (a screen reader announces it); not on load.
  if (!firstRoute) heading?.focus();
  firstRoute = false;
}

function showForget() {
  forget.hidden = storedKey() === null;
}

forget.addEventListener('click', () => {
  forgetKey();
  announce('The API key was removed from this tab.');
  route();
});
onKeyChange(showForget);
showForget();
window.addEventListener('hashchange', route);
route();
