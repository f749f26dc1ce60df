import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitOptions } from '@fastify/rate-limit';
import { z } from 'zod';
import type { GetAnswers } from '../../contracts/index.ts';
import type { SignInGuard } from '../../domains/accounts/index.ts';
import type { CoverageService } from '../../domains/coverage/index.ts';
import type { FireService, LiveService } from '../../domains/fire/index.ts';
import type { Store } from '../../platform/db.ts';
import { type Gate, GateFull } from '../../platform/gate.ts';
import { describeZodError } from '../../platform/validation.ts';
import type { Access } from './auth.ts';
import { ClientsGone, type PublicAnswers } from './public-cache.ts';

/** The parts of the app a handler may use, built once per app. */
export interface RouteContext {
  fire: FireService;
  store: Store;
  coverage: CoverageService;
  live: LiveService;
  /** anonymous answers, computed once per data version */
  answers: PublicAnswers;
  /** PDF renders: one Chromium at a time */
  renders: Gate;
  signIns: SignInGuard;
  secureCookies: boolean;
  version: string;
  /** aborted when the server begins to close: endless answers (the live stream) end then */
  closing: AbortSignal;
}

/** How a route answers: the content type it sends, and what the API document says it returns. */
export type ReplyKind = 'json' | 'geojson' | 'text' | 'html' | 'pdf' | 'stream';

export const CONTENT_TYPES: Record<ReplyKind, string> = {
  json: 'application/json',
  geojson: 'application/geo+json',
  text: 'text/plain; charset=utf-8',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
  stream: 'text/event-stream',
};

type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

type Method = 'GET' | 'POST';
/** What a handler must answer: the contract's type for a GET the contract names, else its own. */
type Answer<M extends Method, U extends string, R> = M extends 'GET'
  ? U extends keyof GetAnswers
    ? GetAnswers[U]
    : R
  : R;

/** One request as a handler sees it: the validated inputs, and the request and reply for headers. */
export interface Call<Q extends Schema, B extends Schema, P extends Schema> {
  query: Out<Q>;
  body: Out<B>;
  params: Out<P>;
  req: FastifyRequest;
  reply: FastifyReply;
}

/**
 * One HTTP route, declared once: its schemas drive validation and the API document, its access is
 * checked on the route the router matched (auth.ts), and its handler returns what is sent.
 */
export interface RouteDeclaration<
  M extends Method,
  U extends string,
  Q extends Schema,
  B extends Schema,
  P extends Schema,
  R,
> {
  method: M;
  url: U;
  /** older paths answering the same, with the same access, marked deprecated in the API document */
  aliases?: readonly string[];
  tag: string;
  summary: string;
  /** who may use it: 'public', or the roles that may */
  access: Access;
  query?: Q;
  body?: B;
  params?: P;
  /** the sentence a 400 for an invalid body starts with (default "Invalid body") */
  invalidBody?: string;
  /** default 'json' */
  reply?: ReplyKind;
  /** the status of a successful answer (default 200) */
  status?: 200 | 201;
  /** an anonymous answer computed once per data version and shared, rate-limited per address */
  shared?: boolean;
  rateLimit?: RateLimitOptions;
  bodyLimit?: number;
  handle(ctx: RouteContext, call: Call<Q, B, P>): Promise<Answer<M, U, R>>;
}

/** Any declaration, as the registrar and the API document walk them. */
export type AnyRoute = RouteDeclaration<Method, string, Schema, Schema, Schema, unknown>;

/**
 * Declares a route; the method, the literal url and the handler's answer stay in its type, and a
 * GET named in src/contracts must answer the contract's type.
 */
export const defineRoute = <
  const M extends Method,
  const U extends string,
  R,
  Q extends Schema = undefined,
  B extends Schema = undefined,
  P extends Schema = undefined,
>(
  route: RouteDeclaration<M, U, Q, B, P, R>,
): RouteDeclaration<M, U, Q, B, P, R> => route;

/**
 * A refusal with its HTTP status, thrown by a handler (as Hono's HTTPException): the error
 * handler sends `{ error, ...details }` with the status and headers.
 */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string | number> = {},
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }
}

function validated<S extends Schema>(schema: S, input: unknown, lead: string): Out<S> {
  if (!schema) return undefined as Out<S>;
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new HttpRefusal(400, `${lead}:\n${describeZodError(parsed.error)}`, {
      issues: parsed.error.issues,
    });
  return parsed.data as Out<S>;
}

/** The shared answer for an anonymous request, or 503 when too many are being computed. */
async function sharedAnswer<T>(
  answers: PublicAnswers,
  req: FastifyRequest,
  key: string,
  compute: () => Promise<T>,
): Promise<T> {
  try {
    return await answers.answer(
      key,
      () => req.raw.destroyed || req.raw.socket?.destroyed === true,
      compute,
    );
  } catch (e) {
    if (!(e instanceof GateFull) && !(e instanceof ClientsGone)) throw e;
    throw new HttpRefusal(
      503,
      'Many public requests are being answered: try again in a few seconds.',
      {},
      { 'Retry-After': e instanceof GateFull ? e.retryAfterSeconds : 5 },
    );
  }
}

/** Registers every declaration (and its deprecated aliases) as Fastify routes. */
export function registerRoutes(
  app: FastifyInstance,
  routes: readonly AnyRoute[],
  ctx: RouteContext,
  opts: { publicRate: RateLimitOptions },
): void {
  for (const route of routes) {
    // the type says so; a declaration built at run time must not slip through either
    if (route.access !== 'public' && !Array.isArray(route.access))
      throw new Error(`${route.method} ${route.url} declares no access`);
    const rateLimit = route.rateLimit ?? (route.shared ? opts.publicRate : undefined);
    for (const url of [route.url, ...(route.aliases ?? [])]) {
      const deprecated = url !== route.url;
      app.route({
        method: route.method,
        url,
        // a HEAD of an endless stream would never complete its head
        exposeHeadRoute: route.reply !== 'stream',
        ...(route.bodyLimit ? { bodyLimit: route.bodyLimit } : {}),
        config: {
          access: route.access,
          tag: route.tag,
          summary: route.summary,
          query: route.query,
          body: route.body,
          ...(rateLimit ? { rateLimit } : {}),
        },
        handler: async (req, reply) => {
          const call = {
            query: validated(route.query, req.query ?? {}, 'Invalid query'),
            params: validated(route.params, req.params, 'Invalid path'),
            body: validated(route.body, req.body, route.invalidBody ?? 'Invalid body'),
            req,
            reply,
          };
          if (deprecated)
            reply.header('Deprecation', 'true').header('Link', `<${route.url}>; rel="successor"`);
          if (route.status) reply.code(route.status);
          const run = () => route.handle(ctx, call);
          const answer = route.shared
            ? await sharedAnswer(ctx.answers, req, `${url}?${JSON.stringify(call.query)}`, run)
            : await run();
          // the stream's handler has taken the socket over
          if (route.reply === 'stream') return;
          if (route.reply && route.reply !== 'json') reply.type(CONTENT_TYPES[route.reply]);
          return reply.send(answer);
        },
      });
    }
  }
}
