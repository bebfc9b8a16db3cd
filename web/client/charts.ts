/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * Dashboard charts with uPlot: runs per hour stacked by state, and items read per hour. Data
 * comes from the page's `chart-data` JSON block; the containers have fixed heights so the page
 * does not move when the charts appear.
 * @module
 */
import uPlot from "uplot";
import { jsonData } from "./api.ts";

interface ChartData {
  hours: number[];
  states: string[];
  perState: number[][];
  items: number[];
}

const COLORS: Record<string, string> = {
  succeeded: "#2e7d32",
  failed: "#c62828",
  cancelled: "#757575",
  running: "#1565c0",
  queued: "#ef6c00",
};

function draw() {
  const data = jsonData<ChartData>("chart-data");
  const runsEl = document.getElementById("runs-chart");
  const itemsEl = document.getElementById("items-chart");
  if (!data || !runsEl || !itemsEl) return;
  // Stacked: series i shows the sum of states 0..i; drawn top-down so lower ones cover.
  const stacked: number[][] = [];
  data.perState.forEach((row, i) => {
    stacked.push(row.map((v, h) => v + (i ? stacked[i - 1][h] : 0)));
  });
  const order = data.states.map((_, i) => data.states.length - 1 - i);
  const width = () => Math.max(300, runsEl.clientWidth);
  const runs = new uPlot(
    {
      width: width(),
      height: 220,
      title: "Runs per hour (stacked by state)",
      scales: { x: { time: true } },
      axes: [{}, { label: "runs" }],
      series: [
        {},
        ...order.map((i) => ({
          label: data.states[i],
          stroke: COLORS[data.states[i]],
          fill: COLORS[data.states[i]] + "cc",
          paths: uPlot.paths.bars!({ size: [0.8, 40] }),
          value: (_u: uPlot, _v: number, _s: number, idx: number | null) =>
            idx === null ? "" : String(data.perState[i][idx] ?? 0),
        })),
      ],
    },
    [data.hours, ...order.map((i) => stacked[i])],
    runsEl,
  );
  const items = new uPlot(
    {
      width: width(),
      height: 150,
      title: "Items read per hour",
      scales: { x: { time: true } },
      axes: [{}, { label: "items" }],
      series: [{}, {
        label: "items",
        stroke: "#1565c0",
        fill: "#1565c033",
        paths: uPlot.paths.bars!({ size: [0.8, 40] }),
      }],
    },
    [data.hours, data.items],
    itemsEl,
  );
  new ResizeObserver(() => {
    runs.setSize({ width: width(), height: 220 });
    items.setSize({ width: width(), height: 150 });
  }).observe(runsEl);
}

draw();
