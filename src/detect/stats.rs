//! Robust statistics shared by the detectors: median, MAD, and the Poisson upper tail.

/// Median of `v` (sorted in place); 0 for an empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median and median absolute deviation of `v`.
pub fn median_mad(v: &[f64]) -> (f64, f64) {
    let mut a = v.to_vec();
    let m = median(&mut a);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    (m, median(&mut dev))
}

/// `-log10 P(X >= k)` for `X ~ Poisson(lambda)`: how surprising a count of `k` is when
/// `lambda` is expected. 0 when `k <= lambda`.
pub fn poisson_surprise(k: u64, lambda: f64) -> f64 {
    let lambda = lambda.max(1e-3);
    if (k as f64) <= lambda {
        return 0.0;
    }
    // P(X >= k) = 1 - sum_{i<k} e^-l l^i / i!, summed in log space from the mode down
    // is overkill here: sum the upper tail directly until terms vanish.
    let ln_term = |i: u64| -> f64 {
        let i = i as f64;
        -lambda + i * lambda.ln() - ln_gamma(i + 1.0)
    };
    let first = ln_term(k);
    let mut sum = 0.0;
    let mut i = k;
    loop {
        let t = (ln_term(i) - first).exp();
        sum += t;
        i += 1;
        if t < 1e-12 || i > k + 10_000 {
            break;
        }
    }
    let ln_p = first + sum.ln();
    (-ln_p / std::f64::consts::LN_10).max(0.0)
}

/// ln Γ(x) for x > 0 (Lanczos approximation).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_mad() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
        assert_eq!(median_mad(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]), (2.0, 1.0));
    }

    #[test]
    fn poisson_tail() {
        // P(X >= 2) for lambda = 1 is 1 - 2/e = 0.264.
        let s = poisson_surprise(2, 1.0);
        assert!(
            (s - (-(1.0 - 2.0 / std::f64::consts::E).log10())).abs() < 1e-3,
            "{s}"
        );
        // P(X >= 10) for lambda = 1 is about 1.1e-7.
        let s = poisson_surprise(10, 1.0);
        assert!((s - 6.95).abs() < 0.05, "{s}");
        assert_eq!(poisson_surprise(2, 5.0), 0.0);
        assert!(poisson_surprise(100, 2.0) > 50.0);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-9);
    }
}
