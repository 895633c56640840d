//! Two-way fixed-effects OLS on a (possibly unbalanced) district × week panel, solved exactly.
//!
//! By Frisch–Waugh–Lovell, the coefficient of a regressor `d` in `y ~ d + district FE + week FE` is
//! `Σ d̃·y / Σ d̃·d̃`, where `d̃` is `d` with the fixed effects partialled out. [`Fe`] does the
//! partialling out exactly: it builds the normal equations of the dummy design (districts, weeks
//! minus one) and factors them once (Cholesky), so every residualisation is one solve. On a
//! balanced panel this equals the usual within transformation `d − d̄_g − d̄_t + d̄`; on an
//! unbalanced one (a measure missing in some weeks) it is still the exact projection.

/// The fixed-effects projector of one panel's observed cells.
#[derive(Debug, Clone)]
pub struct Fe {
    /// Per observation: (district column, week column or `None` for the dropped first week).
    cols: Vec<(usize, Option<usize>)>,
    /// Lower-triangular Cholesky factor of X'X, row-major `k × k`.
    chol: Vec<f64>,
    k: usize,
}

impl Fe {
    /// `cells[i] = (district, week)` of observation i. `None` when the design is singular (fewer
    /// than two districts or weeks, or a panel whose districts and weeks do not connect).
    pub fn new(cells: &[(usize, usize)]) -> Option<Fe> {
        let remap = |key: fn(&(usize, usize)) -> usize| {
            let mut v: Vec<usize> = cells.iter().map(key).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (gs, ts) = (remap(|c| c.0), remap(|c| c.1));
        if gs.len() < 2 || ts.len() < 2 {
            return None;
        }
        let ng = gs.len();
        let k = ng + ts.len() - 1;
        let cols: Vec<(usize, Option<usize>)> = cells
            .iter()
            .map(|(g, t)| {
                let gi = gs.binary_search(g).expect("present");
                let ti = ts.binary_search(t).expect("present");
                (gi, (ti > 0).then(|| ng + ti - 1))
            })
            .collect();
        let mut xtx = vec![0.0; k * k];
        for &(g, t) in &cols {
            xtx[g * k + g] += 1.0;
            if let Some(t) = t {
                xtx[t * k + t] += 1.0;
                xtx[g * k + t] += 1.0;
                xtx[t * k + g] += 1.0;
            }
        }
        let chol = cholesky(xtx, k)?;
        Some(Fe { cols, chol, k })
    }

    pub fn len(&self) -> usize {
        self.cols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// `v` minus its projection on the district and week dummies.
    pub fn residualise(&self, v: &[f64]) -> Vec<f64> {
        let k = self.k;
        let mut b = vec![0.0; k];
        for (&(g, t), &x) in self.cols.iter().zip(v) {
            b[g] += x;
            if let Some(t) = t {
                b[t] += x;
            }
        }
        // Solve L z = b, then L' c = z.
        for i in 0..k {
            let s: f64 = (0..i).map(|j| self.chol[i * k + j] * b[j]).sum();
            b[i] = (b[i] - s) / self.chol[i * k + i];
        }
        for i in (0..k).rev() {
            let s: f64 = (i + 1..k).map(|j| self.chol[j * k + i] * b[j]).sum();
            b[i] = (b[i] - s) / self.chol[i * k + i];
        }
        self.cols.iter().zip(v).map(|(&(g, t), &x)| x - b[g] - t.map_or(0.0, |t| b[t])).collect()
    }
}

/// Cholesky factor (lower, row-major) of a symmetric positive-definite `k × k` matrix.
fn cholesky(mut a: Vec<f64>, k: usize) -> Option<Vec<f64>> {
    let scale = (0..k).map(|i| a[i * k + i]).fold(0.0, f64::max).max(1.0);
    for j in 0..k {
        let d = a[j * k + j] - (0..j).map(|m| a[j * k + m] * a[j * k + m]).sum::<f64>();
        if d <= 1e-10 * scale {
            return None;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let s: f64 = (0..j).map(|m| a[i * k + m] * a[j * k + m]).sum();
            a[i * k + j] = (a[i * k + j] - s) / d;
        }
    }
    for i in 0..k {
        for j in i + 1..k {
            a[i * k + j] = 0.0;
        }
    }
    Some(a)
}

/// The TWFE coefficient of `d` given its residualised `d_tilde`: `Σ d̃·y / Σ d̃·d̃`; `None` when `d`
/// is collinear with the fixed effects.
pub fn coefficient(d_tilde: &[f64], y: &[f64]) -> Option<f64> {
    let ss: f64 = d_tilde.iter().map(|x| x * x).sum();
    (ss > 1e-9).then(|| d_tilde.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / ss)
}
