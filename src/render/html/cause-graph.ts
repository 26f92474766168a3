import * as dagre from '@dagrejs/dagre';
import type { Finding } from '../../domain/finding';
import { refLabel } from '../../domain/object-ref';
import { esc } from './escape';

/**
 * The part of dagre's graph this file uses. dagre's bundled types import graphlib's with
 * extensionless ESM paths that do not resolve under `moduleResolution: nodenext`, so they are typed here.
 */
interface LayoutGraph {
  setGraph(label: { rankdir: string; nodesep: number; ranksep: number; marginx: number; marginy: number }): void;
  setDefaultEdgeLabel(label: () => object): void;
  setNode(id: string, label: { width: number; height: number }): void;
  setEdge(from: string, to: string): void;
  graph(): { width?: number; height?: number };
  edges(): { v: string; w: string }[];
  edge(e: { v: string; w: string }): { points?: { x: number; y: number }[] };
  node(id: string): { x: number; y: number; width: number; height: number };
}
const { Graph, layout } = dagre as unknown as { Graph: new () => LayoutGraph; layout: (g: LayoutGraph) => void };

const MAX_LABEL = 48;
const CHAR_WIDTH = 7;
const NODE_HEIGHT = 44;

function clip(s: string): string {
  return s.length > MAX_LABEL ? `${s.slice(0, MAX_LABEL - 1)}…` : s;
}

/** The anchor of a finding's section on the page (ids are hashes; the index keeps anchors short). */
export function findingAnchor(index: number): string {
  return `finding-${index + 1}`;
}

/**
 * Root causes and the symptoms they explain, as SVG: one node per finding, one edge per
 * `causedBy` (cause → symptom), laid out by dagre top to bottom. Labels are clipped and escaped;
 * each node links to the finding's section.
 */
export function causeGraphSvg(findings: readonly Finding[]): string {
  if (findings.length === 0) return '';
  const g = new Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 48, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(findings.map((f) => f.id));
  for (const f of findings) {
    const width = Math.max(clip(f.title).length, clip(refLabel(f.subject)).length) * CHAR_WIDTH + 24;
    g.setNode(f.id, { width, height: NODE_HEIGHT });
  }
  for (const f of findings) if (f.causedBy && ids.has(f.causedBy)) g.setEdge(f.causedBy, f.id);
  layout(g);
  const size = g.graph();
  const width = Math.ceil(size.width ?? 0);
  const height = Math.ceil(size.height ?? 0);

  const edges = g.edges().map((e) => {
    const points = g.edge(e).points ?? [];
    const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    return `<path class="edge" data-from="${esc(e.v)}" data-to="${esc(e.w)}" d="${d}" marker-end="url(#arrow)"/>`;
  });
  const nodes = findings.map((f, i) => {
    const n = g.node(f.id);
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    return [
      `<a href="#${findingAnchor(i)}"><g class="node sev-${esc(f.severity)}${f.rootCause ? ' root' : ''}" data-finding-id="${esc(f.id)}">`,
      `<title>${esc(`${f.severity}: ${f.title} (${refLabel(f.subject)})`)}</title>`,
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${n.width}" height="${n.height}" rx="6"/>`,
      `<text x="${(x + 10).toFixed(1)}" y="${(y + 18).toFixed(1)}">${esc(clip(f.title))}</text>`,
      `<text class="subject" x="${(x + 10).toFixed(1)}" y="${(y + 34).toFixed(1)}">${esc(clip(refLabel(f.subject)))}</text>`,
      '</g></a>',
    ].join('');
  });
  return [
    `<svg class="cause-graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Root causes and the symptoms they explain">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ...edges,
    ...nodes,
    '</svg>',
  ].join('\n');
}
