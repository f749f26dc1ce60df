import { z } from 'zod';
import { type AnyRoute, CONTENT_TYPES } from './route.ts';

const asJsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { description?: string }>;
    required?: string[];
  };

function parameters(route: AnyRoute, url: string) {
  const query = route.query ? asJsonSchema(route.query) : {};
  const path = route.params ? asJsonSchema(route.params) : {};
  const names = [...url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  return [
    ...names.map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: path.properties?.[name] ?? { type: 'string' },
    })),
    ...Object.entries(query.properties ?? {}).map(([name, s]) => ({
      name,
      in: 'query',
      required: (query.required ?? []).includes(name),
      description: s.description,
      schema: s,
    })),
  ];
}

/** One operation of the document, from what the route declared. */
function operation(route: AnyRoute, url: string): Record<string, unknown> {
  const open = route.access === 'public';
  const deprecated = url !== route.url;
  return {
    summary: deprecated ? `${route.summary} (deprecated: use ${route.url})` : route.summary,
    ...(deprecated ? { deprecated: true } : {}),
    tags: [route.tag],
    security: open ? [] : [{ bearer: [] }, { session: [] }],
    'x-roles': route.access,
    parameters: parameters(route, url),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: asJsonSchema(route.body) } },
          },
        }
      : {}),
    responses: {
      [route.status ?? 200]: {
        description: 'Result',
        content: { [CONTENT_TYPES[route.reply ?? 'json']]: {} },
      },
      400: { description: 'Invalid input: the answer lists each problem' },
      ...(open
        ? {}
        : {
            401: { description: 'Not signed in' },
            403: { description: 'Signed in with a role that may not' },
          }),
    },
  };
}

/** OpenAPI 3.1 document of every declared API route, aliases marked deprecated. */
export function openApiDocument(
  version: string,
  routes: readonly AnyRoute[],
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes)
    for (const url of [route.url, ...(route.aliases ?? [])]) {
      if (!url.startsWith('/api/')) continue;
      (paths[url.replace(/:(\w+)/g, '{$1}')] ??= {})[route.method.toLowerCase()] = operation(
        route,
        url,
      );
    }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CityOps API',
      version,
      description:
        'Operations intelligence for city governments. Times in seconds; percentiles exact (nearest rank).',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'a token from `cityops token create`',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'cityops_session',
          description: 'set by POST /api/auth/login',
        },
      },
    },
  };
}
