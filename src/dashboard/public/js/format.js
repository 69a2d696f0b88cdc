// @ts-check
import { h } from './dom.js';

/**
 * "12 s ago", "in 3 min", for a time relative to now.
 * @param {number} ms epoch milliseconds
 * @param {number} [now]
 */
function relative(ms, now = Date.now()) {
  const diff = Math.round((now - ms) / 1000);
  const abs = Math.abs(diff);
  let text;
  if (abs < 2) return 'just now';
  if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.floor(abs / 60)} min`;
  else if (abs < 86400) text = `${Math.floor(abs / 3600)} h`;
  else text = `${Math.floor(abs / 86400)} d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/**
 * A <time> showing the relative time, the exact one in its title; refreshRelativeTimes updates it.
 * @param {string | null | undefined} iso
 */
export function timeCell(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: iso, 'data-relative': '' }, relative(Date.parse(iso)));
}

/** @param {ParentNode} root */
export function refreshRelativeTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[data-relative]')) {
    el.textContent = relative(Date.parse(el.getAttribute('datetime') ?? ''), now);
  }
}

/** @param {number} ms */
export function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** @param {number} bytes */
export function bytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** @param {number} n */
export function count(n) {
  return n.toLocaleString('en-US');
}

/**
 * A payload or result for reading: JSON pretty-printed (strings that hold JSON too), else as is.
 * @param {unknown} value
 */
export function pretty(value) {
  if (typeof value === 'string') {
    try {
      const parsed = JSON.parse(value);
      if (parsed !== null && typeof parsed === 'object') return JSON.stringify(parsed, null, 2);
    } catch {
      // not JSON: shown as written
    }
    return value;
  }
  return JSON.stringify(value, null, 2);
}

/** @param {string} status */
export function badge(status) {
  return h('span', { class: `badge badge-${status.replace(/[^a-z]/g, '')}` }, status);
}
