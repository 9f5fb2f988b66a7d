#!/usr/bin/env python3
"""Generates the reference vectors for protocol/src/dp tests with mpmath (50 significant digits).

Run from this directory:  python3 gen_vectors.py
Needs only mpmath (pip install mpmath). Every value is computed from its definition, independently
of the TypeScript code under test:
  special.json          erfc, log erfc, lgamma, regularized upper incomplete gamma Q(a, x)
  analytic_gaussian.json  the exact (epsilon, delta) curve of the Gaussian mechanism (Balle & Wang
                        2018, Thm. 8), epsilon found by root-finding on delta(epsilon)
  rdp_sampled_gaussian.json  RDP of the Poisson-subsampled Gaussian by direct numerical integration
                        of A_alpha = E_{z~N(0,s^2)}[((1-q) + q*exp((2z-1)/(2s^2)))^alpha]
                        (Mironov, Talwar & Zhang 2019, Sec. 3), at integer and fractional orders
"""
import json
import mpmath as mp

mp.mp.dps = 50


def f(x):
    return float(x)


def special():
    xs = [-3, -1, -0.25, 0, 1e-8, 0.1, 0.5, 0.9, 1.2, 1.4999, 1.5, 1.7, 2, 2.5, 3, 4, 5, 7, 10, 15, 20, 26]
    erfc = [{"x": x, "erfc": f(mp.erfc(x))} for x in xs]
    log_erfc = [{"x": x, "log_erfc": f(mp.log(mp.erfc(x)))} for x in xs + [30, 40, 100, 1000]]
    gs = [1e-3, 0.1, 0.5, 1, 1.5, 2, 3.7, 9.99, 10, 10.5, 25, 100, 1234.5, 1e6]
    lgamma = [{"x": x, "lgamma": f(mp.loggamma(x))} for x in gs]
    qs = [(0.5, 0.1), (0.5, 3), (1, 2), (1, 40), (2.5, 1), (10, 5), (10, 20), (50, 80), (150, 150), (5e4, 5e4), (5e4, 5.2e4)]
    gammaq = [{"a": a, "x": x, "q": f(mp.gammainc(a, x, mp.inf, regularized=True))} for a, x in qs]
    return {
        "source": "mpmath 50-digit evaluation, gen_vectors.py",
        "erfc": erfc,
        "log_erfc": log_erfc,
        "lgamma": lgamma,
        "gamma_q": gammaq,
    }


def gauss_delta(s, eps):
    s = mp.mpf(s)
    return mp.ncdf(1 / (2 * s) - eps * s) - mp.exp(eps) * mp.ncdf(-1 / (2 * s) - eps * s)


def analytic_gaussian():
    cases = []
    for s, steps, delta in [(0.8, 1, 1e-5), (0.5, 1, 1e-5), (1.0, 1, 1e-6), (2.0, 1, 1e-5), (3.0, 1, 1e-10), (10.0, 100, 1e-6), (5.0, 10, 1e-5)]:
        se = mp.mpf(s) / mp.sqrt(steps)
        eps = mp.findroot(lambda e: gauss_delta(se, e) - delta, (mp.mpf(0), mp.mpf(60)), solver="bisect", tol=mp.mpf(10) ** -30)
        cases.append({"noise_multiplier": s, "steps": steps, "delta": delta, "epsilon": f(eps)})
    return {"source": "Balle & Wang 2018 Thm. 8, root of delta(eps) with mpmath, gen_vectors.py", "cases": cases}


def rdp_integral(q, s, alpha):
    q, s, alpha = mp.mpf(q), mp.mpf(s), mp.mpf(alpha)

    def integrand(z):
        ratio = (1 - q) + q * mp.exp((2 * z - 1) / (2 * s * s))
        return mp.npdf(z, 0, s) * ratio ** alpha

    # The integrand is smooth; split where the ratio changes regime to help the quadrature.
    z0 = s * s * mp.log(1 / q - 1) + mp.mpf(1) / 2 if q < 1 else mp.mpf(0)
    pts = sorted({-40 * s, -10 * s, mp.mpf(0), z0, alpha, 10 * s + alpha, 60 * s + 2 * alpha})
    a = mp.quad(integrand, pts)
    return mp.log(a) / (alpha - 1)


def rdp_vectors():
    cases = []
    for q, s in [(0.01, 1.0), (0.1, 1.5), (0.05, 0.8), (0.2, 2.0)]:
        for alpha in [1.5, 2, 2.5, 3.7, 5.4, 7.8, 10.9, 16, 32]:
            cases.append({"sampling_rate": q, "noise_multiplier": s, "order": alpha, "rdp": f(rdp_integral(q, s, alpha))})
    return {"source": "direct numerical integration of A_alpha with mpmath.quad (50 digits), gen_vectors.py", "cases": cases}


if __name__ == "__main__":
    for name, fn in [("special.json", special), ("analytic_gaussian.json", analytic_gaussian), ("rdp_sampled_gaussian.json", rdp_vectors)]:
        with open(name, "w") as fh:
            json.dump(fn(), fh, indent=1)
            fh.write("\n")
        print("wrote", name)
