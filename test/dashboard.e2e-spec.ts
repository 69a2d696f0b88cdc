import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import request from 'supertest';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { createTestApp, TestApp } from './support/test-app';
import { finishedTask } from './support/task-wait';
import { waitFor } from './support/wait';

// A test here walks several pages of a real browser, each waiting for the page's 2 s refresh: on a
// loaded 2-core machine one takes up to ~25 s (about 8 s when idle), beyond the e2e default of 30 s
// with little margin. A wait that never ends still fails at its own waitFor.
jest.setTimeout(60_000);

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts');
const API_KEY = 'dashboard-key-0123456789';

interface Task {
  id: string;
  status: string;
  attempts: number;
  error?: string;
}

/**
 * A page that records console errors and uncaught exceptions (`errors`) and the API answers >= 400
 * (`failures`, as "status path"). Chromium also logs each such answer as a console error ("Failed to
 * load resource"); those are left out of `errors` because `failures` names them and tests check it.
 */
async function openPage(browser: Browser, url: string | null, options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}) {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const failures: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of \d+/.test(message.text())) errors.push(message.text());
  });
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) failures.push(`${res.status()} ${new URL(res.url()).pathname}`);
  });
  if (url !== null) await page.goto(url);
  return { page, errors, failures, close: () => context.close() };
}

const finished = (t: TestApp, id: string) => finishedTask<Task>(t.http, id);

async function submit(t: TestApp, body: object): Promise<Task> {
  return (await request(t.http).post('/tasks').send(body).expect(201)).body as Task;
}

/**
 * Runs in the page: every visible element with text of its own whose contrast with the background
 * behind it is below WCAG AA (4.5:1, or 3:1 for large text), as "tag.class "text" ratio". Disabled
 * controls are exempt (WCAG 1.4.3); text drawn on the chart's canvas is not seen. A string: the test
 * project has no DOM types.
 */
const CONTRAST_PROBLEMS = `(() => {
  const rgb = (c) => { const m = /rgba?\\(([^)]+)\\)/.exec(c); if (!m) return null; const [r, g, b, a = 1] = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return { r, g, b, a }; };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; }
    return rgb(getComputedStyle(document.documentElement).backgroundColor) ?? { r: 255, g: 255, b: 255 };
  };
  const problems = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.offsetParent === null || el.closest(':disabled, dialog:not([open])')) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '')) continue;
    const style = getComputedStyle(el);
    const [hi, lo] = [luminance(rgb(style.color)), luminance(background(el))].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push(el.tagName.toLowerCase() + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return problems;
})()`;

/** A link of the dashboard's navigation. */
const nav = (page: Page, view: string) => page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: view, exact: true });

/** The ids of the task rows the table shows. */
async function shownIds(page: Page): Promise<string[]> {
  return page.locator('table.tasks tbody tr[data-task-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task-id') as string));
}

/**
 * /dashboard in Debian's chromium (playwright-core, headless): the page served by the app, driving the
 * public REST API against real Redis with real workers.
 */
describe('dashboard (/dashboard) in a real browser', () => {
  const prefix = uniquePrefix('dashboard');
  const redis = testRedis();
  let t: TestApp;
  let base: string;
  let browser: Browser | undefined;

  /** No console error, no uncaught exception, no failed request. */
  function expectClean(errors: string[], failures: string[]): void {
    expect(errors).toEqual([]);
    expect(failures).toEqual([]);
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // flaky always fails: a failed task on demand, with its error.
    t = await createTestApp({ QUEUE_PREFIX: prefix, WORKER_COUNT: '2', FLAKY_FAILURE_RATE: '1', DEFAULT_MAX_RETRY: '0' });
    await t.app.listen(0, '127.0.0.1');
    base = `${await t.app.getUrl()}/dashboard/`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('serves the page, its scripts and the chart library under one policy; /dashboard redirects to /dashboard/', async () => {
    await request(t.http).get('/dashboard').expect(301).expect('Location', '/dashboard/');
    const page = await request(t.http).get('/dashboard/').expect(200).expect('Content-Type', /html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    // No inline script: every script is a file the policy allows.
    expect(page.text).not.toMatch(/<script>|<script type="module">/);
    const scripts = [...page.text.matchAll(/<script[^>]* src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['vendor/uPlot.iife.min.js', 'js/app.js']);
    for (const path of [...scripts, 'vendor/uPlot.min.css', 'dashboard.css', 'js/tasks.js']) await request(t.http).get(`/dashboard/${path}`).expect(200);
    await request(t.http).get('/dashboard/js/missing.js').expect(404);
  });

  it('lists tasks with filters by state and type, pages through them, and shows a failed task with its error', async () => {
    const type = 'echo';
    const batch = Array.from({ length: 30 }, (_, n) => ({ type, payload: JSON.stringify({ n, note: 'dashboard' }) }));
    const echoes = (await request(t.http).post('/tasks/batch').send(batch).expect(201)).body as Task[];
    const failed = await submit(t, { type: 'flaky', payload: 'boom' });
    expect((await finished(t, failed.id)).status).toBe('failed');
    for (const task of echoes) await finished(t, task.id);

    const { page, errors, failures, close } = await openPage(browser as Browser, `${base}#/tasks?type=echo`);
    try {
      // Page 1: the 25 newest echo tasks; page 2: the other 5; no task twice; back to page 1.
      await page.locator('table.tasks tbody tr[data-task-id]').nth(24).waitFor();
      const first = await shownIds(page);
      expect(first).toHaveLength(25);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-tasks.png') });
      await page.getByRole('button', { name: 'Older →' }).click();
      await page.getByText('Page 2: 5 tasks').waitFor();
      const second = await shownIds(page);
      expect(new Set([...first, ...second])).toEqual(new Set(echoes.map((e) => e.id)));
      expect(await page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
      await page.getByRole('button', { name: '← Newer' }).click();
      await page.getByText('Page 1: 25 tasks').waitFor();
      expect(await shownIds(page)).toEqual(first);
      // Apply with the same filters reads the list again: a newer task comes first.
      const newer = await submit(t, { type, payload: 'newer' });
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await waitFor(async () => ((await shownIds(page))[0] === newer.id ? true : undefined), { what: 'the newer task first' });

      // State filter (a select: applies on change, kept in the URL's hash); the type field cleared.
      await page.getByLabel('Type').fill('');
      await page.getByLabel('State').selectOption('failed');
      await page.waitForURL(/#\/tasks\?status=failed$/);
      await waitFor(async () => ((await shownIds(page)).join() === failed.id ? true : undefined), { what: 'only the failed task' });
      const row = page.locator(`tr[data-task-id="${failed.id}"]`);
      expect(await row.locator('.badge').textContent()).toBe('failed');
      expect(await row.locator('.error-cell').textContent()).toMatch(/flaky/i);

      // Its detail: the error, the attempt history, the payload; a screenshot for the record.
      await row.getByRole('link').click();
      await page.getByRole('heading', { name: `Task ${failed.id}` }).waitFor();
      const error = (await finished(t, failed.id)).error as string;
      expect(await page.locator('pre.error-text').textContent()).toBe(error);
      const history = page.getByRole('table', { name: 'Attempts, oldest first' });
      await history.waitFor();
      expect(await history.locator('tbody tr').count()).toBe(1);
      expect(await history.locator('tbody tr .badge').textContent()).toBe('failed');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task.png'), fullPage: true });
      await page.getByRole('button', { name: 'Copy id' }).click();
      await page.getByRole('status').getByText('Task id copied to the clipboard.').waitFor();
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(failed.id);

      // A completed task's payload is shown as pretty JSON.
      await page.goto(`${base}#/tasks/${echoes[3].id}`);
      await page.getByRole('heading', { name: 'Payload' }).waitFor();
      expect(await page.locator('section[aria-labelledby="payload-h"] pre').textContent()).toBe(
        JSON.stringify({ n: 3, note: 'dashboard' }, null, 2),
      );
      expectClean(errors, failures);
    } finally {
      await close();
    }
  });

  it('overview: counts per queue change as tasks complete; pausing and resuming a queue from the page; throughput, workers, Redis', async () => {
    const queue = 'dash-overview';
    await request(t.http).post(`/queues/${queue}/pause`).expect(200);
    const tasks: Task[] = [];
    for (let i = 0; i < 5; i++) tasks.push(await submit(t, { type: 'echo', payload: `o${i}`, queue }));
    const { page, errors, failures, close } = await openPage(browser as Browser, base);
    try {
      const row = page.locator(`tr[data-queue="${queue}"]`);
      const cell = (state: string) => row.locator(`td[data-state="${state}"]`);
      // Paused: the five wait, and the page says the queue is paused.
      await waitFor(async () => ((await cell('pending').textContent()) === '5' ? true : undefined), { timeoutMs: 20_000, what: 'pending 5 on the page' });
      expect(await row.locator('.badge').textContent()).toBe('paused');
      expect(await page.locator('[data-card="paused"] .card-value').textContent()).toContain(queue);
      // Resumed from the page: the workers run them, and the page follows (refresh every 2 s).
      await row.getByRole('button', { name: `Resume ${queue}` }).click();
      await page.getByRole('dialog', { name: `Resume queue ${queue}` }).getByRole('button', { name: 'Resume' }).click();
      await page.getByRole('status').getByText(`Queue ${queue} resumed.`).waitFor();
      await waitFor(async () => ((await cell('completed').textContent()) === '5' ? true : undefined), { timeoutMs: 20_000, what: 'completed 5 on the page' });
      expect(await cell('pending').textContent()).toBe('0');
      for (const task of tasks) expect((await finished(t, task.id)).status).toBe('completed');
      expect(await row.locator('.badge').textContent()).toBe('running');
      // Throughput over the last hour counts them; workers and Redis are shown.
      await waitFor(async () => (/In the last hour: [1-9]\d* finished/.test((await page.locator('section[aria-labelledby="throughput-h"]').textContent()) ?? '') ? true : undefined), {
        what: 'throughput sums',
      });
      expect(await page.locator('.chart canvas').count()).toBe(1);
      expect(await page.getByRole('table', { name: 'Live worker processes' }).locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator('[data-card="redis"] .card-note').textContent()).toMatch(/^version \d+\.\d+/);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
      // Paused again from the page: the API says so.
      await row.getByRole('button', { name: `Pause ${queue}` }).click();
      await page.getByRole('dialog', { name: `Pause queue ${queue}` }).getByRole('button', { name: 'Pause' }).click();
      await page.getByRole('status').getByText(`Queue ${queue} paused.`).waitFor();
      const listed = (await request(t.http).get('/queues').expect(200)).body.queues as { name: string; paused: boolean }[];
      expect(listed.find((q) => q.name === queue)?.paused).toBe(true);
      expectClean(errors, failures);
    } finally {
      await close();
      await request(t.http).post(`/queues/${queue}/resume`).expect(200);
    }
  });

  it('retries a failed task from its page (it runs again), and every failed task of a queue from the list', async () => {
    const queue = 'dash-retry';
    const one = await submit(t, { type: 'flaky', payload: 'once', queue });
    const two = await submit(t, { type: 'flaky', payload: 'twice', queue });
    expect((await finished(t, one.id)).status).toBe('failed');
    expect((await finished(t, two.id)).status).toBe('failed');
    const { page, errors, failures, close } = await openPage(browser as Browser, `${base}#/tasks/${one.id}`);
    try {
      await page.getByRole('button', { name: 'Retry task' }).click();
      await page.getByRole('dialog', { name: 'Retry task' }).getByRole('button', { name: 'Retry' }).click();
      await page.getByRole('status').getByText(`Task ${one.id} queued again.`).waitFor();
      // It ran again (flaky always fails here): a second attempt in its history, on the page.
      const history = page.getByRole('table', { name: 'Attempts, oldest first' }).locator('tbody tr');
      await waitFor(async () => ((await history.count()) === 2 ? true : undefined), { timeoutMs: 20_000, what: 'a second attempt on the page' });
      expect(await finished(t, one.id)).toMatchObject({ status: 'failed', attempts: 2 });

      // The queue filter offers the queues GET /queues lists; the filters end up in the address.
      await nav(page, 'Tasks').click();
      const replaced = await page.getByLabel('State').elementHandle();
      await page.getByLabel('Queue').selectOption(queue);
      await page.waitForURL(new RegExp(`#/tasks\\?queue=${queue}$`));
      // The address changes before its hashchange redraws the view: a choice made in the filters being
      // replaced would be lost (their form is gone), so act on the new ones.
      await page.waitForFunction((el) => !el?.isConnected, replaced);
      await page.getByLabel('State').selectOption('failed');
      await page.waitForURL(new RegExp(`#/tasks\\?queue=${queue}&status=failed$`));
      await waitFor(async () => ((await shownIds(page)).sort().join() === [one.id, two.id].sort().join() ? true : undefined), { what: 'the two failed tasks of the queue' });
      await page.getByRole('button', { name: 'Retry all failed' }).click();
      const dialog = page.getByRole('dialog', { name: 'Retry all failed tasks' });
      expect(await dialog.textContent()).toContain(`queue ${queue}`);
      await dialog.getByRole('button', { name: 'Retry all' }).click();
      await page.getByRole('status').getByText('2 failed tasks queued again.').waitFor();
      await waitFor(async () => ((await request(t.http).get(`/tasks/${two.id}`)).body.attempts === 2 ? true : undefined), { timeoutMs: 20_000, what: 'the second task ran again' });
      expectClean(errors, failures);
    } finally {
      await close();
    }
  });

  it('keeps the queue filter when another filter changes before the list of queues has arrived', async () => {
    const queue = 'dash-slow-queues';
    await submit(t, { type: 'echo', payload: 'x', queue });
    const { page, errors, failures, close } = await openPage(browser as Browser, null);
    // GET /queues answers late, as from a slow server: the view is drawn, the queue list not yet filled.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      await page.route(/\/queues$/, async (route) => {
        await held;
        await route.continue();
      });
      await page.goto(`${base}#/tasks?queue=${queue}`);
      await page.getByLabel('State').selectOption('failed');
      // Any address with the new state, then check that the queue is still in it.
      await page.waitForURL(/#\/tasks\?.*status=failed$/);
      expect(new URL(page.url()).hash).toBe(`#/tasks?queue=${queue}&status=failed`);
      release();
      await waitFor(async () => ((await page.getByLabel('Queue').inputValue()) === queue ? true : undefined), { what: 'the queue filter still chosen' });
      expectClean(errors, failures);
    } finally {
      release();
      await close();
    }
  });

  it('schedules: lists one with its next run, pauses, resumes and deletes it from the page', async () => {
    const created = (await request(t.http).post('/schedules').send({ name: 'dash-yearly', cron: '0 0 1 1 *', timezone: 'UTC', task: { type: 'echo', payload: 'new year' } }).expect(201))
      .body as { id: string };
    const { page, errors, failures, close } = await openPage(browser as Browser, `${base}#/schedules`);
    try {
      const row = page.locator(`tr[data-schedule-id="${created.id}"]`);
      await row.waitFor();
      expect(await row.locator('time').first().textContent()).toMatch(/^in \d+ (d|h|min)$/);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-schedules.png') });
      await row.getByRole('button', { name: 'Pause dash-yearly' }).click();
      await page.getByRole('dialog', { name: 'Pause schedule dash-yearly' }).getByRole('button', { name: 'Pause' }).click();
      await page.getByRole('status').getByText('Schedule dash-yearly paused.').waitFor();
      await row.getByRole('button', { name: 'Resume dash-yearly' }).waitFor();
      expect((await request(t.http).get(`/schedules/${created.id}`).expect(200)).body.paused).toBe(true);
      await row.getByRole('button', { name: 'Resume dash-yearly' }).click();
      await page.getByRole('dialog', { name: 'Resume schedule dash-yearly' }).getByRole('button', { name: 'Resume' }).click();
      await page.getByRole('status').getByText('Schedule dash-yearly resumed.').waitFor();
      expect((await request(t.http).get(`/schedules/${created.id}`).expect(200)).body.paused).toBe(false);
      await row.getByRole('button', { name: 'Delete dash-yearly' }).click();
      await page.getByRole('dialog', { name: 'Delete schedule dash-yearly' }).getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('status').getByText('Schedule dash-yearly deleted.').waitFor();
      await row.waitFor({ state: 'detached' });
      await request(t.http).get(`/schedules/${created.id}`).expect(404);
      expectClean(errors, failures);
    } finally {
      await close();
    }
  });

  it('works on a server without the stats, queues, workers and schedules endpoints: each panel says it is unavailable', async () => {
    // Not yet at the page: the routes must be in place before it loads.
    const { page, errors, failures, close } = await openPage(browser as Browser, null);
    try {
      // An older server: Nest's own 404 for a route it does not have.
      await page.route(/\/(stats|queues|workers|schedules)(\?|$)/, (route) =>
        route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ statusCode: 404, error: 'Not Found', message: `Cannot GET ${new URL(route.request().url()).pathname}` }) }),
      );
      await page.goto(base);
      for (const what of ['Queue counts', 'Throughput', 'The worker list']) {
        await page.getByText(`${what} is not available on this server`).waitFor();
      }
      await nav(page, 'Schedules').click();
      await page.getByText('Schedules is not available on this server').waitFor();
      // The task list needs none of them; the queue filter is off.
      await nav(page, 'Tasks').click();
      await page.getByRole('table', { name: 'Tasks: open ones newest first, then finished ones latest finished first' }).waitFor();
      expect(await page.getByLabel('Queue').isDisabled()).toBe(true);
      expect(errors).toEqual([]);
      expect(failures.filter((f) => !/^404 \/(stats|queues|workers|schedules)$/.test(f))).toEqual([]);
    } finally {
      await close();
    }
  });

  it('deletes a task after a confirmation, and says so', async () => {
    const task = await submit(t, { type: 'echo', payload: 'to delete' });
    await finished(t, task.id);
    const { page, errors, failures, close } = await openPage(browser as Browser, `${base}#/tasks/${task.id}`);
    try {
      await page.getByRole('button', { name: 'Delete task' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete task' });
      await dialog.waitFor();
      // Cancel first: nothing happens.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await request(t.http).get(`/tasks/${task.id}`).expect(200);
      await page.getByRole('button', { name: 'Delete task' }).click();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('status').getByText(`Task ${task.id} deleted.`).waitFor();
      await page.waitForURL(/#\/tasks$/);
      await request(t.http).get(`/tasks/${task.id}`).expect(404);
      expectClean(errors, failures);
    } finally {
      await close();
    }
  });

  it('labels every control and fits a phone-width screen without sideways scrolling of the page', async () => {
    const { page, errors, failures, close } = await openPage(browser as Browser, `${base}#/tasks`, { viewport: { width: 390, height: 844 } });
    try {
      await page.locator('table.tasks tbody tr').first().waitFor();
      // Visible controls without an accessible name (a label, aria-label or text). Strings: the test
      // project has no DOM types; the expressions run in the page.
      const unlabelled = await page.evaluate(`[...document.querySelectorAll('input, select, button, a')]
        .filter((el) => el.offsetParent !== null && !(el.labels?.length > 0 || el.getAttribute('aria-label') || el.textContent.trim() !== ''))
        .map((el) => el.outerHTML)`);
      expect(unlabelled).toEqual([]);
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      // The overview too (its wide tables scroll inside their own region).
      await nav(page, 'Overview').click();
      await page.getByRole('table', { name: 'Tasks per queue and state' }).waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-phone.png'), fullPage: true });
      // A fresh load (focus at the start of the document).
      await page.goto(`${base}#/tasks`);
      await page.reload();
      await page.locator('table.tasks tbody tr').first().waitFor();
      // Keyboard: the first Tab reaches the skip link; the next ones the views; Enter opens one and
      // puts focus on its heading.
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
      for (const name of ['Overview', 'Tasks', 'Schedules']) {
        await page.keyboard.press('Tab');
        expect(await page.evaluate('document.activeElement.textContent')).toBe(name);
      }
      await page.keyboard.press('Enter');
      await page.waitForURL(/#\/schedules$/);
      await waitFor(async () => ((await page.evaluate('document.activeElement.tagName + " " + document.activeElement.textContent')) === 'H1 Schedules' ? true : undefined), {
        what: 'focus on the Schedules heading',
      });
      expectClean(errors, failures);
    } finally {
      await close();
    }
  });

  it.each(['light', 'dark'] as const)('text meets WCAG AA contrast in the %s scheme (overview, task list, a failed task)', async (colorScheme) => {
    const failed = await submit(t, { type: 'flaky', payload: JSON.stringify({ scheme: colorScheme }) });
    expect((await finished(t, failed.id)).status).toBe('failed');
    const { page, errors, failures, close } = await openPage(browser as Browser, base, { colorScheme });
    try {
      await page.locator('tr[data-queue="default"]').waitFor();
      await page.locator('.chart canvas').waitFor();
      const problems: unknown[] = await page.evaluate(CONTRAST_PROBLEMS);
      await page.goto(`${base}#/tasks`);
      await page.locator(`tr[data-task-id="${failed.id}"]`).waitFor();
      problems.push(...(await page.evaluate<unknown[]>(CONTRAST_PROBLEMS)));
      await page.goto(`${base}#/tasks/${failed.id}`);
      await page.getByRole('table', { name: 'Attempts, oldest first' }).waitFor();
      problems.push(...(await page.evaluate<unknown[]>(CONTRAST_PROBLEMS)));
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-task-${colorScheme}.png`), fullPage: true });
      expect(problems).toEqual([]);
      expectClean(errors, failures);
    } finally {
      await close();
    }
  });

  it('asks for the API key once, keeps it in session storage (never in the URL) and sends it as a bearer token', async () => {
    const keyed = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api', API_KEYS: API_KEY });
    try {
      await keyed.app.listen(0, '127.0.0.1');
      const url = `${await keyed.app.getUrl()}/dashboard/#/tasks`;
      // The page needs no key; the API does.
      await request(keyed.http).get('/dashboard/').expect(200);
      await request(keyed.http).get('/tasks').expect(401);
      const { page, errors, failures, close } = await openPage(browser as Browser, url);
      try {
        const prompt = page.getByRole('dialog', { name: 'API key required' });
        await prompt.waitFor();
        await prompt.getByLabel('API key').fill('wrong-key-0123456789');
        await prompt.getByRole('button', { name: 'Use this key' }).click();
        await prompt.getByText('The key was not accepted').waitFor();
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-key-prompt.png') });
        await prompt.getByLabel('API key').fill(API_KEY);
        await prompt.getByRole('button', { name: 'Use this key' }).click();
        await page.getByRole('table', { name: 'Tasks: open ones newest first, then finished ones latest finished first' }).waitFor();
        expect(await page.evaluate("sessionStorage.getItem('taskqueue.apiKey')")).toBe(API_KEY);
        expect(page.url()).not.toContain(API_KEY);
        // Another view and a reload: no second prompt.
        await page.reload();
        await page.getByRole('table', { name: 'Tasks: open ones newest first, then finished ones latest finished first' }).waitFor();
        expect(await prompt.isVisible()).toBe(false);
        // Forgetting the key asks again.
        await page.getByRole('button', { name: 'Forget API key' }).click();
        await prompt.waitFor();
        // Refused requests (401) before a key and with the wrong one; nothing else failed.
        expect(failures).toContain('401 /tasks');
        expectClean(errors, failures.filter((f) => !f.startsWith('401 ')));
      } finally {
        await close();
      }
    } finally {
      await keyed.close();
    }
  });

  it('is not served with DASHBOARD_ENABLED=false, nor by worker-only processes', async () => {
    const off = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'api', DASHBOARD_ENABLED: 'false' });
    const worker = await createTestApp({ QUEUE_PREFIX: prefix, APP_ROLE: 'worker', WORKER_COUNT: '0' });
    try {
      await request(off.http).get('/dashboard/').expect(404);
      await request(off.http).get('/dashboard/js/app.js').expect(404);
      await request(worker.http).get('/dashboard/').expect(404);
    } finally {
      await off.close();
      await worker.close();
    }
  });
});
