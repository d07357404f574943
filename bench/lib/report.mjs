// Judges each workload against its target and renders bench/results/latest.json as docs/benchmarks.md.
import { round } from './measure.mjs';

/** Display names of the figures a workload can carry, in table order. */
export const SUBJECTS = {
  berth: 'Berth',
  berthIndexed: 'Berth, indexed',
  berthApp: 'Berth, in the app',
  berthAppIndexed: 'Berth in the app, indexed',
  skopeo: 'skopeo copy',
  podman: 'podman pull',
  floor: 'gzip -dc | sha256sum',
  nodeTransfer: 'fresh Node process, transfer and digests only',
  nodeStore: "fresh Node process, transfer, digests and skopeo's disk work",
  reference: 'reference',
};

/** Berth's own figures (the others are peers and references it is compared with). */
const OWN = new Set(['berth', 'berthIndexed', 'berthApp', 'berthAppIndexed']);

/** The key of a ratio in `ratios`: the peer for Berth's main figure, `of/peer` for another of its figures. */
const ratioKey = (of, to) => (of === 'berth' ? to : `${of}/${to}`);

/**
 * Fills `ratios` (Berth median / each peer figure's median, each check's own pair and each of `comparisons`) and `status`: "met"
 * when every check holds, "not met" when one fails, "not measured" when Berth's figure is missing, "reported"
 * when there is no target.
 */
export function judge(workload) {
  const berth = workload.figures.berth;
  // A peer that only checks of Berth's other figures compare with is shown only against those.
  const checks = workload.checks ?? [];
  const own = checks.filter((check) => check.ratioTo && check.of);
  const onlyOwn = (subject) =>
    own.some((check) => check.ratioTo === subject) &&
    !checks.some((check) => check.ratioTo === subject && !check.of);
  const pairs = Object.keys(workload.figures)
    .filter((subject) => !OWN.has(subject) && !onlyOwn(subject))
    .map((subject) => ['berth', subject]);
  for (const check of own) pairs.push([check.of, check.ratioTo]);
  // Ratios between two figures neither of which is Berth's, shown for context and judged by no line.
  for (const pair of workload.comparisons ?? []) pairs.push(pair);
  workload.ratios = {};
  for (const [of, to] of pairs) {
    const mine = workload.figures[of];
    const theirs = workload.figures[to];
    if (!mine || !theirs || !(theirs.median > 0)) continue;
    workload.ratios[ratioKey(of, to)] = round(mine.median / theirs.median, 3);
  }
  workload.checks = (workload.checks ?? []).map((check) => {
    let value = null;
    if (berth) {
      if (check.ratioTo) value = workload.ratios[ratioKey(check.of ?? 'berth', check.ratioTo)] ?? null;
      else if (check.field === 'peakRssMB') value = berth.peakRssMB;
      else value = berth.median;
    }
    return { ...check, value, met: value === null ? null : value <= check.max };
  });
  if (!berth) workload.status = 'not measured';
  else if (workload.checks.length === 0) workload.status = 'reported';
  else workload.status = workload.checks.every((c) => c.met) ? 'met' : 'not met';
  return workload;
}

function formatValue(value, unit) {
  if (value === null || value === undefined) return '—';
  if (unit === 's')
    return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  if (unit === 'ms')
    return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  if (unit === 'MB') return value.toFixed(1);
  return String(value);
}

/** A figure's median in its unit, with its min–max when it has more than one run. */
function medianWithSpread(figure) {
  const spread =
    figure.runs.length > 1
      ? ` (${formatValue(figure.min, figure.unit)}–${formatValue(figure.max, figure.unit)})`
      : '';
  return `${formatValue(figure.median, figure.unit)} ${figure.unit}${spread}`;
}

function cell(figure) {
  if (!figure) return '—';
  const rss =
    figure.peakRssMB !== null && figure.peakRssMB !== undefined && figure.unit !== 'MB'
      ? `, ${Math.round(figure.peakRssMB)} MB RSS`
      : '';
  return `${medianWithSpread(figure)}${rss}`;
}

/** A ratio as the report words it: `<Berth figure>: <r>× <peer>`, the figure left out for Berth's main one. */
function ratioText(key, ratio) {
  const [of, to] = key.includes('/') ? key.split('/') : ['berth', key];
  return `${of === 'berth' ? '' : `${escape(SUBJECTS[of])}: `}${ratio}× ${escape(SUBJECTS[to])}`;
}

/** Escapes the pipe that would end a Markdown table cell. */
function escape(text) {
  return String(text).replaceAll('|', '\\|');
}

/** The report's sections, in this order. */
const GROUP_ORDER = ['Pull', 'Memory', 'Resume', 'Store', 'UI', 'Layer explorer'];

const STATUS = {
  met: '✅ met',
  'not met': '❌ not met',
  'not measured': '⏳ not measured',
  reported: 'reported',
};

/** More figures than this and a group is shown a workload at a time: one row each would not fit a page. */
const wideTable = 4;

/** A check's figure as it compares with its line: a ratio, or the median in its unit. */
function checkValue(check, unit) {
  if (check.value === null) return '—';
  return check.ratioTo ? `${check.value}×` : `${formatValue(check.value, unit)} ${unit}`;
}

/** One workload as a heading with its status, a table of its figures, its targets and its other ratios. */
function workloadBlock(w, subjects) {
  const lines = [`### ${w.title}: ${STATUS[w.status]}`, ''];
  lines.push('| Figure | Median (min–max) | Peak RSS |', '|---|---|---|');
  for (const s of subjects) {
    const figure = w.figures[s];
    if (!figure) continue;
    const rss =
      figure.peakRssMB === null || figure.peakRssMB === undefined
        ? '—'
        : `${Math.round(figure.peakRssMB)} MB`;
    lines.push(`| ${escape(SUBJECTS[s])} | ${medianWithSpread(figure)} | ${rss} |`);
  }
  lines.push('');
  const unit = w.figures.berth?.unit ?? '';
  for (const check of w.checks ?? [])
    lines.push(
      `- ${escape(check.text)}: ${checkValue(check, unit)}${check.met === null ? '' : check.met ? ' ✓' : ' ✗'}`,
    );
  const judged = new Set(
    (w.checks ?? []).filter((c) => c.ratioTo).map((c) => ratioKey(c.of ?? 'berth', c.ratioTo)),
  );
  const others = Object.entries(w.ratios ?? {}).filter(([key]) => !judged.has(key));
  if (others.length > 0) lines.push(`- Also: ${others.map(([key, r]) => ratioText(key, r)).join('; ')}`);
  if (w.note) lines.push(`- ${w.note}`);
  lines.push('');
  return lines;
}

/** Renders the results document as Markdown; `analysis` (bench/analysis.md) is the hand-written part on what bounds a missed target. */
export function renderMarkdown(results, analysis) {
  const m = results.machine;
  const lines = [
    '# Benchmarks',
    '',
    'Generated by `bench/run.mjs` from `bench/results/latest.json`; do not edit by hand. Rerun with the command below.',
    '',
    `- **Date:** ${results.generated}`,
    `- **Command:** \`${results.command}\``,
    `- **Runs per figure:** ${results.config.runs} (median, with min–max in brackets); scale ${results.config.scale}` +
      (results.config.scale === 1 ? ' (full size)' : ' (reduced sizes: not comparable with the targets)'),
    `- **Machine:** ${m.cpuModel}, ${m.cores} cores, ${m.memoryGB} GB RAM, Linux ${m.kernel}, ${m.os}; Node ${m.node}`,
    `- **Load average (1/5/15 min):** ${m.loadAverage ? `${m.loadAverage.start.join(' / ')} at the start, ${m.loadAverage.end.join(' / ')} at the end` : 'not recorded'}`,
    `- **Tools:** ${Object.entries(m.tools)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ')}`,
    `- **Registry:** docker-registry on 127.0.0.1 (plain HTTP, filesystem storage, blobs in the page cache); every client starts from an empty store or folder unless the workload says otherwise.`,
    '',
    'Ratios are Berth ÷ peer (below 1.0 means Berth is faster). Peak RSS is the largest process of each command tree (GNU time `%M`).',
    '',
  ];
  // Sections in reading order, whatever order the groups ran in.
  const rank = (group) => {
    const at = GROUP_ORDER.indexOf(group);
    return at < 0 ? GROUP_ORDER.length : at;
  };
  const groups = [...new Set(results.workloads.map((w) => w.group))].sort((a, b) => rank(a) - rank(b));
  for (const group of groups) {
    const rows = results.workloads.filter((w) => w.group === group);
    const subjects = Object.keys(SUBJECTS).filter((s) => s === 'berth' || rows.some((w) => s in w.figures));
    lines.push(`## ${group}`, '');
    if (subjects.length > wideTable) {
      for (const w of rows) lines.push(...workloadBlock(w, subjects));
      continue;
    }
    lines.push(
      `| Workload | ${subjects.map((s) => escape(SUBJECTS[s])).join(' | ')} | Ratios | Target | Status |`,
    );
    lines.push(`|---|${subjects.map(() => '---').join('|')}|---|---|---|`);
    for (const w of rows) {
      const ratios = Object.entries(w.ratios ?? {})
        .map(([key, r]) => ratioText(key, r))
        .join('<br>');
      const target =
        (w.checks ?? [])
          .map((c) => `${escape(c.text)}${c.met === null ? '' : c.met ? ' ✓' : ' ✗'}`)
          .join('<br>') || '—';
      lines.push(
        `| ${escape(w.title)} | ${subjects.map((s) => cell(w.figures[s])).join(' | ')} | ${ratios || '—'} | ${target} | ${STATUS[w.status]} |`,
      );
    }
    const notes = rows.filter((w) => w.note);
    if (notes.length > 0) {
      lines.push('');
      for (const w of notes) lines.push(`- *${w.title}:* ${w.note}`);
    }
    lines.push('');
  }
  const missing = results.workloads.filter((w) => w.status === 'not measured');
  lines.push('## Not yet measurable', '');
  if (missing.length === 0) lines.push('Every workload was measured.');
  const byReason = new Map();
  for (const w of missing) {
    const reason = w.reason ?? 'Berth side missing';
    byReason.set(reason, [...(byReason.get(reason) ?? []), w.title]);
  }
  for (const [reason, titles] of byReason) lines.push(`- ${reason}: ${titles.join('; ')}.`);
  lines.push('', '## Bounds and remarks', '');
  for (const remark of results.remarks ?? []) lines.push(`- ${remark}`);
  if (analysis) lines.push('', analysis.trim());
  lines.push(
    '',
    '## How to run',
    '',
    '```sh',
    'bench/deps.sh                 # once: GNU time, skopeo, podman, docker-registry, Chromium (Debian packages)',
    'npm run bench                 # full run: writes bench/results/latest.json and this file',
    'BENCH_SCALE=0.1 npm run bench # quick smoke run at a tenth of the sizes (writes bench/results/*.tmp)',
    '```',
    '',
    'Knobs: `BENCH_RUNS` (runs per figure, default 5), `BENCH_ONLY` (groups: `pull,memory,resume,store,ui,layers`),',
    '`BENCH_CACHE` (workload images and registry storage, default `~/.cache/berth-bench`; built once per scale, never',
    'committed), `BENCH_BUILD=0` (skip `electron-vite build`). Only a full-size run of every group rewrites this file.',
    'Workloads whose Berth side does not exist yet are listed under "Not yet measurable" and carry no number.',
    '',
  );
  return lines.join('\n');
}
