/**
 * The small-group rule of every public answer: no figure is published that rests on fewer than
 * MIN_GROUP incidents, crashes or people, and no two published figures may be subtracted to give
 * such a group away.
 *
 * Public periods are whole months, so any two periods differ by whole months. A group is shown for
 * a period only when it could be shown in each of its months on its own, with complementary
 * suppression in that month: a difference of two answers then adds up month cells that are each 0
 * or at least MIN_GROUP, and total minus shown groups adds up withheld cells that are too.
 */
export const MIN_GROUP = 10;

/** A count that would single out fewer than MIN_GROUP (zero gives nothing away). */
export const isSmall = (n: number): boolean => n > 0 && n < MIN_GROUP;

export interface PublicPeriod {
  from: string | null;
  to: string | null;
}

const lastDayOfMonth = (day: string) => {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return `${day.slice(0, 7)}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
};

/** A public date filter widened to whole months: from to the 1st, to to the month's last day. */
export function wholeMonths(q: { from?: string | null; to?: string | null }): PublicPeriod {
  return {
    from: q.from ? `${q.from.slice(0, 7)}-01` : null,
    to: q.to ? lastDayOfMonth(q.to) : null,
  };
}

/**
 * The parts of one total that may be shown. A part of 1..MIN_GROUP-1 is withheld; while the withheld
 * parts (with those never shown, such as an unknown neighbourhood) add up to 1..MIN_GROUP-1, total
 * minus the shown parts would give them away, so the smallest shown part is withheld too.
 */
export function shownParts(
  parts: ReadonlyMap<string, number>,
  neverShown: ReadonlySet<string> = new Set(),
): Set<string> {
  const shown = new Set(
    [...parts.keys()].filter((k) => !neverShown.has(k) && !isSmall(parts.get(k)!)),
  );
  let withheld = [...parts].filter(([k]) => !shown.has(k)).reduce((s, [, n]) => s + n, 0);
  while (isSmall(withheld)) {
    const next = [...shown]
      .filter((k) => parts.get(k)! > 0)
      .sort((a, b) => parts.get(a)! - parts.get(b)!)[0];
    if (next === undefined) break;
    shown.delete(next);
    withheld += parts.get(next)!;
  }
  return shown;
}

/**
 * The parts that may be shown for a period: those shown in every one of its months (a part absent
 * from a month counts 0 there), given each month's counts of every part.
 */
export function shownOverMonths(
  months: ReadonlyMap<string, ReadonlyMap<string, number>>,
  neverShown: ReadonlySet<string> = new Set(),
): Set<string> {
  const all = new Set(
    [...months.values()].flatMap((m) => [...m.keys()]).filter((k) => !neverShown.has(k)),
  );
  for (const parts of months.values()) {
    const shown = shownParts(parts, neverShown);
    for (const k of all) if (parts.has(k) && !shown.has(k)) all.delete(k);
  }
  return all;
}
