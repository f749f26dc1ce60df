import { z } from 'zod';
import { openSession, signOut } from '../../domains/accounts/index.ts';
import { GateFull } from '../../platform/gate.ts';
import { SCHEMA_VERSION } from '../../platform/migrations.ts';
import { renderFireReport } from '../reports/pdf.ts';
import { READERS, SESSION_COOKIE } from './auth.ts';
import { cityFacts, layerGeoJson } from './city.ts';
import { streetsPage } from './collisions-page.ts';
import { planPage } from './coverage-page.ts';
import { healthProblems } from './health.ts';
import { overviewPage } from './overview.ts';
import { defineRoute, HttpRefusal } from './route.ts';

/** The server itself, the city's map layers and the printed report. */
export const SYSTEM_ROUTES = [
  defineRoute({
    method: 'GET',
    url: '/api/health',
    tag: 'system',
    access: 'public',
    summary:
      'Readiness, schema version, the last live update, queue depths, and problems that would make writes fail (503 then)',
    // cheap by design: counters in memory and one statfs, no query
    handle: async ({ store, version, closing, live, answers, renders }, { reply }) => {
      const problems = healthProblems(store.path);
      if (closing.aborted) problems.push('The server is shutting down.');
      reply.code(problems.length ? 503 : 200);
      const sent = live.hub.lastSentAt;
      return {
        ok: problems.length === 0,
        ready: !closing.aborted,
        schemaVersion: SCHEMA_VERSION,
        version,
        lastLiveUpdate: sent === null ? null : new Date(sent * 1000).toISOString(),
        queues: {
          publicAnswers: answers.depth,
          pdfRenders: renders.depth,
          liveIngest: { waitingEvents: live.queuedEvents },
        },
        problems,
      };
    },
  }),
  // public facts, drawn without tiles: the city's own layers as imported (boundary, tracts, stations…)
  defineRoute({
    method: 'GET',
    url: '/api/public/geo/:layer',
    tag: 'public',
    access: 'public',
    params: z.strictObject({ layer: z.string() }),
    reply: 'geojson',
    summary: 'An imported map layer (boundary, stations, tracts, …) as GeoJSON',
    handle: async ({ store, fire }, { params: { layer }, reply }) => {
      const geo = /^[\w-]{1,40}$/.test(layer) ? await layerGeoJson(store, layer) : null;
      if (!geo)
        throw new HttpRefusal(
          404,
          `No map layer "${layer.slice(0, 40)}". Layers: ${(await cityFacts(store, fire)).layers.join(', ') || 'none imported'}`,
        );
      reply.header('Cache-Control', 'public, max-age=300');
      return geo;
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/reports/fire.pdf',
    tag: 'reports',
    access: READERS,
    query: z.strictObject({
      month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM'),
    }),
    reply: 'pdf',
    summary: 'Monthly fire report as PDF (?month=YYYY-MM); one render at a time, 503 when busy',
    handle: async ({ store, renders }, { query: { month }, req, reply }) => {
      const address = req.server.server.address();
      if (!address || typeof address === 'string')
        throw new HttpRefusal(500, 'The server has no TCP address to render from.');
      try {
        const pdf = await renders.run(async () => {
          const session = await openSession(store, 'report-renderer', 'viewer', 10);
          try {
            return await renderFireReport({
              baseUrl: `http://127.0.0.1:${address.port}`,
              sessionCookie: { name: SESSION_COOKIE, value: session },
              month,
            });
          } finally {
            await signOut(store, session);
          }
        });
        reply.header('Content-Disposition', `attachment; filename="cityops-fire-${month}.pdf"`);
        return pdf;
      } catch (e) {
        if (!(e instanceof GateFull)) throw e;
        throw new HttpRefusal(
          503,
          'Reports are being printed for others: try again in half a minute.',
          {},
          { 'Retry-After': e.retryAfterSeconds },
        );
      }
    },
  }),
];

/** Public pages, readable without JavaScript: computed once per data version and shared. */
export const PAGE_ROUTES = [
  defineRoute({
    method: 'GET',
    url: '/public/plan',
    tag: 'pages',
    access: 'public',
    shared: true,
    reply: 'html',
    summary: 'Public strategic-plan page',
    handle: ({ store, fire }) => planPage(store, fire),
  }),
  defineRoute({
    method: 'GET',
    url: '/public/streets',
    tag: 'pages',
    access: 'public',
    shared: true,
    reply: 'html',
    summary: 'Public road-safety page',
    handle: ({ store, fire }) => streetsPage(store, fire.config),
  }),
  defineRoute({
    method: 'GET',
    url: '/public',
    tag: 'pages',
    access: 'public',
    shared: true,
    reply: 'html',
    summary: 'Public overview page',
    handle: ({ fire }) => overviewPage(fire),
  }),
];
