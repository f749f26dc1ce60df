import { z } from 'zod';
import { UserError } from '../../platform/errors.ts';
import { describeZodError } from '../../platform/validation.ts';
import type { Store } from '../../platform/db.ts';

/**
 * Budget requests (new, enhancement, reduction) tagged to goals and measures, scored 0–4 per
 * criterion in self and peer rounds, and decided with a rationale. Scores and decisions are
 * append-only, so the record shows who scored and decided what, when and why.
 */
export const RequestSchema = z.strictObject({
  fy: z.number().int().min(1900).max(2200),
  department: z.string().min(1),
  kind: z.enum(['new', 'enhancement', 'reduction']),
  title: z.string().min(3),
  amount: z.number().finite(),
  fte: z.number().min(0).optional(),
  goals: z.array(z.string().min(1)).default([]),
  measures: z.array(z.string().min(1)).default([]),
  by: z.string().min(1),
});
export const ScoreSchema = z.strictObject({
  criterion: z.string().min(1),
  round: z.enum(['self', 'peer', 'council']),
  scorer: z.string().min(1),
  score: z.number().int().min(0).max(4),
  rationale: z.string().optional(),
});
export const DecisionSchema = z
  .strictObject({
    decision: z.enum(['approved', 'modified', 'deferred', 'denied']),
    amount: z.number().finite().optional(),
    rationale: z
      .string()
      .min(10, 'say why (at least 10 characters): the rationale is the audit trail'),
    by: z.string().min(1),
  })
  .refine(
    (d) => (d.decision === 'approved' || d.decision === 'modified') === (d.amount !== undefined),
    {
      message: 'approved and modified decisions carry an amount; the others do not',
      path: ['amount'],
    },
  );

const parse = <S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> => {
  const r = schema.safeParse(input);
  if (!r.success) throw new UserError(`The ${what} is not valid:\n${describeZodError(r.error)}`);
  return r.data;
};

export async function addRequest(
  store: Store,
  input: z.input<typeof RequestSchema>,
  knownGoals: string[],
): Promise<number> {
  const r = parse(RequestSchema, input, 'budget request');
  const unknown = r.goals.filter((g) => !knownGoals.includes(g));
  if (unknown.length)
    throw new UserError(
      `Unknown goal ${unknown.join(', ')}. Goals of the plan: ${knownGoals.join(', ')}`,
    );
  const row = await store.one<{ id: number }>(
    `INSERT INTO budget_requests (request_id, fiscal_year_end, department, kind, title, amount, fte, goal_ids, measure_ids, created_by)
    SELECT coalesce(max(request_id), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM budget_requests RETURNING request_id AS id`,
    [
      r.fy,
      r.department,
      r.kind,
      r.title,
      r.amount,
      r.fte ?? null,
      JSON.stringify(r.goals),
      JSON.stringify(r.measures),
      r.by,
    ],
  );
  return row!.id;
}

async function mustExist(store: Store, id: number): Promise<void> {
  if (!(await store.one('SELECT 1 FROM budget_requests WHERE request_id = $1', [id])))
    throw new UserError(`There is no budget request ${id}.`);
}

export async function scoreRequest(
  store: Store,
  id: number,
  input: z.input<typeof ScoreSchema>,
): Promise<void> {
  const s = parse(ScoreSchema, input, 'score');
  await mustExist(store, id);
  await store.run(
    'INSERT INTO request_scores (request_id, criterion, round, scorer, score, rationale) VALUES ($1, $2, $3, $4, $5, $6)',
    [id, s.criterion, s.round, s.scorer, s.score, s.rationale ?? null],
  );
}

export async function decideRequest(
  store: Store,
  id: number,
  input: z.input<typeof DecisionSchema>,
): Promise<void> {
  const d = parse(DecisionSchema, input, 'decision');
  await mustExist(store, id);
  await store.run(
    'INSERT INTO request_decisions (request_id, decision, amount, rationale, decided_by) VALUES ($1, $2, $3, $4, $5)',
    [id, d.decision, d.amount ?? null, d.rationale, d.by],
  );
}

export interface RequestView {
  id: number;
  fy: number;
  department: string;
  kind: string;
  title: string;
  amount: number;
  fte: number | null;
  goals: string[];
  measures: string[];
  /** mean of the latest score per criterion, preferring the peer round over the self-score */
  score: number | null;
  decision: string | null;
  approvedAmount: number | null;
  rationale: string | null;
  decidedBy: string | null;
  history: { at: string; what: string }[];
}

export async function listRequests(store: Store, fy?: number): Promise<RequestView[]> {
  const reqs = await store.all<Record<string, unknown>>(
    `SELECT request_id, fiscal_year_end, department, kind, title, amount::DOUBLE AS amount, fte, goal_ids, measure_ids,
      created_by, strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS created FROM budget_requests WHERE $1::INTEGER IS NULL OR fiscal_year_end = $1 ORDER BY request_id`,
    [fy ?? null],
  );
  const scores = await store.all<{
    request_id: number;
    criterion: string;
    round: string;
    scorer: string;
    score: number;
    rationale: string | null;
    at: string;
  }>(
    `SELECT request_id, criterion, round, scorer, score, rationale, strftime(scored_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS at FROM request_scores ORDER BY scored_at`,
  );
  const decisions = await store.all<{
    request_id: number;
    decision: string;
    amount: number | null;
    rationale: string;
    decided_by: string;
    at: string;
  }>(
    `SELECT request_id, decision, amount::DOUBLE AS amount, rationale, decided_by, strftime(decided_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS at FROM request_decisions ORDER BY decided_at`,
  );
  return reqs.map((r) => {
    const id = r.request_id as number;
    const mine = scores.filter((s) => s.request_id === id);
    const latest = new Map<string, number>();
    for (const round of ['self', 'peer', 'council'])
      for (const s of mine.filter((x) => x.round === round)) latest.set(s.criterion, s.score);
    const decided = decisions.filter((d) => d.request_id === id);
    const last = decided[decided.length - 1];
    return {
      id,
      fy: r.fiscal_year_end as number,
      department: r.department as string,
      kind: r.kind as string,
      title: r.title as string,
      amount: r.amount as number,
      fte: r.fte as number | null,
      goals: JSON.parse(r.goal_ids as string),
      measures: JSON.parse(r.measure_ids as string),
      score: latest.size ? [...latest.values()].reduce((a, b) => a + b, 0) / latest.size : null,
      decision: last?.decision ?? null,
      approvedAmount: last?.amount ?? null,
      rationale: last?.rationale ?? null,
      decidedBy: last?.decided_by ?? null,
      history: [
        { at: r.created as string, what: `requested by ${r.created_by}` },
        ...mine.map((s) => ({
          at: s.at,
          what: `${s.round} score ${s.score} on ${s.criterion} by ${s.scorer}${s.rationale ? `: ${s.rationale}` : ''}`,
        })),
        ...decided.map((d) => ({
          at: d.at,
          what: `${d.decision}${d.amount !== null ? ` $${d.amount.toLocaleString('en-US')}` : ''} by ${d.decided_by}: ${d.rationale}`,
        })),
      ].sort((a, b) => a.at.localeCompare(b.at)),
    };
  });
}
