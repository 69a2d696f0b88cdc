// @ts-check
import { h } from './dom.js';

/**
 * @typedef {{ minute: string, completed: number, failed: number }} ThroughputPoint
 */

const HEIGHT = 220;
/** Tick steps of the count axis: whole tasks only. */
const COUNT_STEPS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1000, 10_000, 100_000, 1_000_000].map((e) => m * e)).sort((a, b) => a - b);

/**
 * Completed and failed tasks per minute over the last hour (GET /stats `throughput`), drawn by uPlot
 * (loaded as a classic script: the global `uPlot`). Failed is dashed as well as red, so the two
 * series differ without colour. The chart is an image to assistive technology; the sums beside it say
 * the same in words.
 */
export class ThroughputChart {
  constructor() {
    this.element = h('div', { class: 'chart', role: 'img', 'aria-label': 'Throughput chart: no data yet' });
    /** @type {uPlot | null} */
    this.plot = null;
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
    });
    this.resize.observe(this.element);
  }

  width() {
    return Math.max(240, Math.floor(this.element.clientWidth));
  }

  /** @param {ThroughputPoint[]} points oldest first */
  update(points) {
    /** @type {uPlot.AlignedData} */
    const data = [points.map((p) => Date.parse(p.minute) / 1000), points.map((p) => p.completed), points.map((p) => p.failed)];
    const completed = points.reduce((sum, p) => sum + p.completed, 0);
    const failed = points.reduce((sum, p) => sum + p.failed, 0);
    this.element.setAttribute('aria-label', `Throughput over the last hour, per minute: ${completed} completed, ${failed} failed in total`);
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    // The axes take the page's colours (light or dark scheme).
    const style = getComputedStyle(document.documentElement);
    const muted = style.getPropertyValue('--muted').trim();
    const grid = { stroke: style.getPropertyValue('--border').trim(), width: 1 };
    this.plot = new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [
          { stroke: muted, grid, ticks: grid },
          { stroke: muted, grid, ticks: grid, label: 'tasks / min', size: 56, incrs: COUNT_STEPS },
        ],
        series: [
          { label: 'minute' },
          { label: 'completed', stroke: '#2da44e', width: 2, fill: 'rgba(26, 127, 55, 0.08)', points: { show: false } },
          { label: 'failed', stroke: '#cf222e', width: 2, dash: [6, 4], points: { show: false } },
        ],
        legend: { live: true },
      },
      data,
      this.element,
    );
  }

  destroy() {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
