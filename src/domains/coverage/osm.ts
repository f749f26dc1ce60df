import { createRequire } from 'node:module';

/**
 * Road ways from OpenStreetMap extracts (XML or PBF) and GeoJSON lines, in one shape. Only drivable
 * classes are kept from OSM, and ways closed to the public (access=private/no) are dropped. Direction
 * follows `oneway` (yes/1/true forward, -1 backward; motorways and roundabouts are implied one-way);
 * a way whose oneway tag was lost (the GeoJSON extract's `oneway_unknown`) is two-way and flagged.
 */
export interface RoadWay {
  id: string;
  name: string | null;
  highway: string | null;
  direction: 'forward' | 'backward' | 'both';
  maxspeedKmh: number | null;
  onewayUnknown: boolean;
  coordinates: [number, number][];
}

export const DRIVABLE = new Set([
  'motorway',
  'motorway_link',
  'trunk',
  'trunk_link',
  'primary',
  'primary_link',
  'secondary',
  'secondary_link',
  'tertiary',
  'tertiary_link',
  'unclassified',
  'residential',
  'living_street',
  'service',
  'busway',
  'road',
]);

/** `maxspeed` as tagged: "25 mph", "40", "50 km/h"; OSM's unit is km/h unless stated. */
export function parseMaxspeed(v: unknown): number | null {
  if (typeof v === 'number') return v > 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = v.trim().match(/^(\d+(?:\.\d+)?)\s*(mph|km\/h|kmh|kph)?$/i);
  if (!m) return null;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 'mph' ? n * 1.609344 : n;
}

export function wayDirection(tags: Record<string, unknown>): RoadWay['direction'] {
  const o = String(tags.oneway ?? '').toLowerCase();
  if (o === '-1' || o === 'reverse') return 'backward';
  if (o === 'yes' || o === 'true' || o === '1') return 'forward';
  if (o === 'no' || o === 'false' || o === '0') return 'both';
  const hw = String(tags.highway ?? '');
  if (
    hw === 'motorway' ||
    hw === 'motorway_link' ||
    tags.junction === 'roundabout' ||
    tags.junction === 'circular'
  )
    return 'forward';
  return 'both';
}

function toWay(
  id: string,
  tags: Record<string, unknown>,
  coordinates: [number, number][],
): RoadWay | null {
  const hw = typeof tags.highway === 'string' ? tags.highway : null;
  if (!hw || !DRIVABLE.has(hw)) return null;
  if (tags.access === 'private' || tags.access === 'no') return null;
  if (coordinates.length < 2) return null;
  return {
    id,
    name: typeof tags.name === 'string' ? tags.name : null,
    highway: hw,
    direction: wayDirection(tags),
    maxspeedKmh: parseMaxspeed(tags.maxspeed),
    onewayUnknown: false,
    coordinates,
  };
}

const ATTR = /(\w+)="([^"]*)"/g;
const unescapeXml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(ATTR)) out[m[1]!] = unescapeXml(m[2]!);
  return out;
}

/** OSM XML: nodes, then ways with their node references and tags. */
export function readOsmXml(text: string): { ways: RoadWay[]; missingNodes: number } {
  const nodes = new Map<string, [number, number]>();
  const ways: RoadWay[] = [];
  let missingNodes = 0;
  const re = /<node\b[^>]*?\/?>|<way\b[^>]*>([\s\S]*?)<\/way>/g;
  for (const m of text.matchAll(re)) {
    if (m[0].startsWith('<node')) {
      const a = attrs(m[0]);
      if (a.id && a.lat && a.lon) nodes.set(a.id, [Number(a.lon), Number(a.lat)]);
      continue;
    }
    const id = attrs(m[0].slice(0, m[0].indexOf('>') + 1)).id ?? '';
    const body = m[1] ?? '';
    const tags: Record<string, string> = {};
    for (const t of body.matchAll(/<tag\b[^>]*\/>/g)) {
      const a = attrs(t[0]);
      if (a.k !== undefined) tags[a.k] = a.v ?? '';
    }
    const coords: [number, number][] = [];
    for (const r of body.matchAll(/<nd\b[^>]*ref="(\d+)"/g)) {
      const c = nodes.get(r[1]!);
      if (c) coords.push(c);
      else missingNodes++;
    }
    const w = toWay(id, tags, coords);
    if (w) ways.push(w);
  }
  return { ways, missingNodes };
}

interface OsmJsonElement {
  type: string;
  id: number;
  lat?: number;
  lon?: number;
  nodes?: number[];
  tags?: Record<string, string>;
}

/** OSM PBF, through tiny-osmpbf (pure JavaScript, synchronous; district-size extracts). */
export function readOsmPbf(bytes: Uint8Array): { ways: RoadWay[]; missingNodes: number } {
  const parse = createRequire(import.meta.url)('tiny-osmpbf') as (b: Uint8Array) => {
    elements: OsmJsonElement[];
  };
  const { elements } = parse(bytes);
  const nodes = new Map<number, [number, number]>();
  for (const e of elements) if (e.type === 'node') nodes.set(e.id, [e.lon!, e.lat!]);
  const ways: RoadWay[] = [];
  let missingNodes = 0;
  for (const e of elements) {
    if (e.type !== 'way') continue;
    const coords: [number, number][] = [];
    for (const n of e.nodes ?? []) {
      const c = nodes.get(n);
      if (c) coords.push(c);
      else missingNodes++;
    }
    const w = toWay(String(e.id), e.tags ?? {}, coords);
    if (w) ways.push(w);
  }
  return { ways, missingNodes };
}
