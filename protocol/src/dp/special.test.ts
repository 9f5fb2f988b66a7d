import { describe, expect, it } from 'vitest';
import {
  erfc,
  lgamma,
  logAddExp,
  logErfc,
  logNormalCdf,
  logSubExp,
  normalCdf,
  normalSf,
} from './special';
import vectors from './vectors/special.json';

/** |got/want − 1| ≤ tol, with exact zeros compared absolutely. */
function expectRel(got: number, want: number, tol: number): void {
  if (want === 0) expect(Math.abs(got)).toBeLessThanOrEqual(tol);
  else expect(Math.abs(got / want - 1)).toBeLessThanOrEqual(tol);
}

describe('erfc (vectors: mpmath, 50 digits)', () => {
  it.each(vectors.erfc)('erfc($x)', ({ x, erfc: want }) => {
    expectRel(erfc(x), want, 2e-14);
  });
  it.each(vectors.log_erfc)('logErfc($x)', ({ x, log_erfc: want }) => {
    // Absolute error on the log = relative error on erfc.
    expect(Math.abs(logErfc(x) - want)).toBeLessThanOrEqual(2e-14 * Math.max(1, Math.abs(want)));
  });
  it('keeps relative accuracy in the far tail, where 1 − erf cancels', () => {
    expect(erfc(6)).toBeGreaterThan(0);
    expectRel(normalSf(8), 6.22096057427178e-16, 1e-13);
    expectRel(normalCdf(-8), 6.22096057427178e-16, 1e-13);
    expect(normalCdf(0)).toBe(0.5);
    expect(Math.abs(logNormalCdf(-40) - Math.log(normalCdf(-38)))).toBeGreaterThan(1);
  });
});

describe('lgamma (vectors: mpmath)', () => {
  it.each(vectors.lgamma)('lgamma($x)', ({ x, lgamma: want }) => {
    expect(Math.abs(lgamma(x) - want)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(want)));
  });
  it('matches log n! exactly enough for small integers', () => {
    let logFact = 0;
    for (let n = 1; n <= 30; n++) {
      logFact += Math.log(n);
      expect(Math.abs(lgamma(n + 1) - logFact)).toBeLessThan(1e-13 * Math.max(1, logFact));
    }
  });
});

describe('log-space helpers', () => {
  it('adds and subtracts without overflow', () => {
    expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logAddExp(-Infinity, 3)).toBe(3);
    expect(logSubExp(Math.log(3), 0)).toBeCloseTo(Math.LN2, 14);
    expect(logSubExp(1, 1)).toBe(-Infinity);
    expect(logSubExp(0, 1)).toBeNaN();
  });
});
