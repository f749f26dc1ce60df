import { describe, expect, it } from 'vitest';
import { localFields, localDateStart, timestampParser } from './time.ts';

const LA = 'America/Los_Angeles';
const sf = timestampParser('MM/DD/YYYY hh:mm:ss A', LA);
const iso = (text: string) => {
  const r = sf(text);
  if (!r.ok) throw new Error(r.reason);
  return new Date(r.utc * 1000).toISOString();
};

describe('local times in the agency zone', () => {
  it('reads SF stamps in Pacific time, standard and daylight', () => {
    expect(iso('01/16/2017 05:37:37 PM')).toBe('2017-01-17T01:37:37.000Z'); // PST, UTC-8
    expect(iso('04/07/2020 11:53:08 PM')).toBe('2020-04-08T06:53:08.000Z'); // PDT, UTC-7
    expect(iso('04/08/2020 12:00:00 AM')).toBe('2020-04-08T07:00:00.000Z'); // 12 AM is midnight
    expect(iso('04/08/2020 12:30:00 PM')).toBe('2020-04-08T19:30:00.000Z'); // 12 PM is noon
  });

  it('spring forward: 02:30 does not exist on 2020-03-08 and is flagged', () => {
    const r = sf('03/08/2020 02:30:00 AM');
    expect(r.ok && r.nonexistent).toBe(true);
    // an interval across the change is one hour shorter on the wall clock
    const a = sf('03/08/2020 01:59:00 AM'),
      b = sf('03/08/2020 03:01:00 AM');
    expect(a.ok && b.ok && b.utc - a.utc).toBe(120);
  });

  it('fall back: 01:30 on 2020-11-01 happens twice; the earlier (PDT) is taken and flagged', () => {
    const r = sf('11/01/2020 01:30:00 AM');
    expect(r.ok && r.ambiguous).toBe(true);
    expect(r.ok && new Date(r.utc * 1000).toISOString()).toBe('2020-11-01T08:30:00.000Z');
    const a = sf('11/01/2020 12:59:00 AM'),
      b = sf('11/01/2020 02:01:00 AM');
    expect(a.ok && b.ok && b.utc - a.utc).toBe(62 * 60 + 3600);
  });

  it('local fields follow the zone across the change', () => {
    const t = Date.parse('2020-11-01T09:30:00Z') / 1000; // 01:30 PST (second pass)
    expect(localFields(t, LA)).toMatchObject({ year: 2020, month: 11, day: 1, hour: 1, dow: 6 });
    expect(localDateStart('2020-03-08', LA)).toBe(Date.parse('2020-03-08T08:00:00Z') / 1000);
    expect(localDateStart('2020-03-09', LA)).toBe(Date.parse('2020-03-09T07:00:00Z') / 1000);
  });

  it('rejects unparseable and impossible stamps with a reason', () => {
    for (const bad of [
      'yesterday',
      '13/01/2020 01:00:00 AM',
      '02/30/2020 01:00:00 AM',
      '01/01/2020 13:00:00 PM',
    ]) {
      const r = sf(bad);
      expect(r.ok, bad).toBe(false);
    }
  });

  it('ISO stamps with offsets are exact; without one they are local', () => {
    const p = timestampParser('iso', LA);
    const a = p('2020-04-08T03:00:00-07:00'),
      b = p('2020-04-08T03:00:00'),
      c = p('2020-04-08T10:00:00Z');
    expect(a.ok && b.ok && c.ok && [a.utc, b.utc]).toEqual([c.ok && c.utc, c.ok && c.utc]);
  });
});

describe('pattern tokens added for real exports (issue 15)', () => {
  it('MMMM reads a full English month name, YY pivots as strptime %y, excel counts from 1899-12-30', () => {
    const utc = (f: string, t: string) => {
      const r = timestampParser(f, 'UTC')(t);
      return r.ok ? r.utc : r.reason;
    };
    // Date.UTC values, computed by hand: 2009-09-01, 2068-12-31, 1969-01-01
    expect(utc('DD MMMM YYYY', '01 September 2009')).toBe(Date.UTC(2009, 8, 1) / 1000);
    expect(utc('MM/DD/YY', '12/31/68')).toBe(Date.UTC(2068, 11, 31) / 1000);
    expect(utc('MM/DD/YY', '01/01/69')).toBe(Date.UTC(1969, 0, 1) / 1000);
    // serial 61 is 1900-03-01 (Excel's 29 February 1900, serial 60, never was); 59 is 1900-02-28
    expect(utc('excel', '61')).toBe(Date.UTC(1900, 2, 1) / 1000);
    expect(utc('excel', '59')).toBe(Date.UTC(1900, 1, 28) / 1000);
    expect(utc('excel', '60')).toMatch(/never was/);
  });
});
