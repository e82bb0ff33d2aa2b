# Reference values for rms::validate in tests/test_calibration.py.
#
# Run from the repository root:  Rscript tests/reference/validate.R
# Writes tests/reference/validate_indices.csv (the bootstrap resamples, 1-based row numbers),
# validate_rms.csv (rms::validate's table for those resamples), validate_gini.csv
# (Hmisc::GiniMd), the sparse-level case validate_sparse_*.csv (data, resamples, every
# resample's lrm.fit, rms::validate's and rms::calibrate's tables), validate_lrm_iterations.csv
# (lrm.fit on separated data and with step halving), validate_qr_rank.csv (R's qr() rank
# decisions) and validate_versions.txt.
#
# Data: MASS::birthwt, exported by nomogram.R as tests/reference/birthwt.csv (race as a label).
#
# rms::predab.resample draws each bootstrap resample with `sample(n, replace = TRUE)`, one call per
# resample, and nothing else in validate(fit, B) with bw = FALSE consumes random numbers. The
# same seed and the same calls therefore give the resamples validate used: they are written out so
# that the Python test can feed the very same rows to bootstrap_validate. The script checks this
# by recomputing validate's first-resample "test" column from the exported rows.
suppressPackageStartupMessages({library(rms); library(Hmisc)})
options(digits = 15)
out <- "tests/reference"
bw <- read.csv(file.path(out, "birthwt.csv"))
bw$race <- factor(bw$race, levels = c("white", "black", "other"))
n <- nrow(bw)

fit <- lrm(low ~ age + lwt + race + smoke + ptl + ht + ui, data = bw, x = TRUE, y = TRUE)
B <- 40
set.seed(20261121)
v <- validate(fit, B = B)
set.seed(20261121)
S <- sapply(seq_len(B), function(i) sample(n, replace = TRUE))

# Check: validate's measures for resample 1, recomputed from its rows.
s1 <- S[, 1]
f1 <- lrm(low ~ age + lwt + race + smoke + ptl + ht + ui, data = bw[s1, ])
lp <- predict(f1, bw)                      # linear predictor on the original data
rf <- lrm.fit(lp, bw$low, tol = 1e-13)     # recalibration logit(P) = a + b lp
stopifnot(abs(coef(rf)[2] - 1) < 1)        # sanity

write.csv(data.frame(resample = rep(seq_len(B), each = n), row = as.vector(S)),
          file.path(out, "validate_indices.csv"), row.names = FALSE)
tab <- data.frame(index = rownames(v), unclass(v)[, 1:6], row.names = NULL)
names(tab) <- c("index", "index.orig", "training", "test", "optimism", "index.corrected", "n")
write.csv(tab, file.path(out, "validate_rms.csv"), row.names = FALSE)

# One-resample validate: the test-sample measures of resample 1 alone, recomputed by hand above.
set.seed(20261121)
v1 <- validate(fit, B = 1)
tab1 <- data.frame(index = rownames(v1), unclass(v1)[, 1:6], row.names = NULL)
names(tab1) <- names(tab)
stopifnot(abs(tab1$test[tab1$index == "Slope"] - coef(rf)[2]) < 1e-8)
stopifnot(abs(tab1$test[tab1$index == "Intercept"] - coef(rf)[1]) < 1e-8)
write.csv(tab1, file.path(out, "validate_rms_B1.csv"), row.names = FALSE)

# Gini's mean difference (Hmisc::GiniMd), on ties and on a continuous sample
x1 <- c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5)
x2 <- predict(fit)
write.csv(data.frame(case = c("ties", "lp_birthwt", "p_birthwt"),
                     gini = c(GiniMd(x1), GiniMd(x2), GiniMd(plogis(x2)))),
          file.path(out, "validate_gini.csv"), row.names = FALSE)

# A recalibration logit P(y) = a + b lp with lp spanning -55..44 logits (a bootstrap resample
# model of the demo study evaluated on the training cohort; written by the Python side): most
# probabilities saturate at the start value b = 1, but the MLE is well defined (AUC 0.966).
ext <- read.csv(file.path(out, "validate_recal_extreme_input.csv"))
fe <- glm(y ~ lp, binomial, ext, control = glm.control(epsilon = 1e-14, maxit = 100))
write.csv(data.frame(intercept = coef(fe)[1], slope = coef(fe)[2],
                     loglik = as.numeric(logLik(fe))),
          file.path(out, "validate_recal_extreme.csv"), row.names = FALSE)

# ---- A sparse factor level (quasi-separation in many resamples) ----------------------------
# 60 patients; factor `grade` has a level "rare" of 4 patients with 1 event. Every resample
# that misses that patient has no event in "rare": the maximum-likelihood estimate is -Inf,
# and lrm.fit stops with a large finite coefficient (its convergence rule is on the change of
# -2 log L), so validate keeps the resample. Resamples without any "rare" patient have an
# all-zero column: lrm.fit reports a singular information matrix and validate skips them. The
# resampling seed (2) was chosen so that two of the 60 resamples are of that kind.
set.seed(613)
ns <- 60
sp <- data.frame(
  grade = factor(c(rep("low", 28), rep("mid", 28), rep("rare", 4)),
                 levels = c("low", "mid", "rare")),
  size = round(rnorm(ns, 20, 6), 1), score = round(rnorm(ns), 3))
lps <- -0.5 + 0.9 * sp$score + 0.05 * (sp$size - 20) + 0.8 * (sp$grade == "mid")
sp$y <- as.integer(runif(ns) < plogis(lps))
sp$y[sp$grade == "rare"] <- c(1L, 0L, 0L, 0L)
write.csv(sp[c("y", "score", "size", "grade")], file.path(out, "validate_sparse_data.csv"),
          row.names = FALSE)
fs <- lrm(y ~ score + size + grade, data = sp, x = TRUE, y = TRUE)
Bs <- 60
set.seed(2)
vs <- validate(fs, B = Bs)
set.seed(2)
Ss <- sapply(seq_len(Bs), function(i) sample(ns, replace = TRUE))
set.seed(2)
cs <- calibrate(fs, B = Bs)
# Every resample's fit as predab.resample makes it (validate.lrm: maxit 12, tol 1e-12;
# calibrate: tol 1e-13), with lrm.fit's failure flag (errors count as failures, as there).
one_fit <- function(i, tol) {
  f <- tryCatch(lrm.fit(fs$x[Ss[, i], , drop = FALSE], sp$y[Ss[, i]], maxit = 12, tol = tol),
                error = function(e) list(fail = TRUE))
  b <- if (isTRUE(f$fail)) rep(NA_real_, 5) else unname(coef(f))
  data.frame(resample = i, tol = tol, fail = isTRUE(f$fail), events_rare =
               sum(sp$y[Ss[, i]] == 1 & sp$grade[Ss[, i]] == "rare"),
             n_rare = sum(sp$grade[Ss[, i]] == "rare"), intercept = b[1], score = b[2],
             size = b[3], grade_mid = b[4], grade_rare = b[5],
             deviance = if (isTRUE(f$fail)) NA_real_ else f$deviance[2])
}
fits <- do.call(rbind, c(lapply(seq_len(Bs), one_fit, tol = 1e-12),
                         lapply(seq_len(Bs), one_fit, tol = 1e-13)))
stopifnot(sum(!fits$fail[fits$tol == 1e-12]) == vs["Dxy", "n"])
stopifnot(any(fits$events_rare == 0 & fits$n_rare > 0 & !fits$fail))
# Check that Ss are validate's resamples: the training Dxy of the first kept resample without
# an event in "rare", recovered from validate(B = i) and validate(B = i - 1), equals Somers' D
# of that resample's fit on its own rows.
i <- which(fits$tol == 1e-12 & fits$events_rare == 0 & !fits$fail)[1]
set.seed(2); va <- validate(fs, B = i)
set.seed(2); vb <- validate(fs, B = i - 1)
sum_tr <- function(v) if (v["Dxy", "n"] == 0) 0 else v["Dxy", "training"] * v["Dxy", "n"]
tr_i <- sum_tr(va) - sum_tr(vb)
fi <- lrm.fit(fs$x[Ss[, i], ], sp$y[Ss[, i]], maxit = 12, tol = 1e-12)
stopifnot(abs(tr_i - somers2(fi$linear.predictors, sp$y[Ss[, i]])["Dxy"]) < 1e-10)
write.csv(data.frame(resample = rep(seq_len(Bs), each = ns), row = as.vector(Ss)),
          file.path(out, "validate_sparse_indices.csv"), row.names = FALSE)
write.csv(fits, file.path(out, "validate_sparse_fits.csv"), row.names = FALSE)
tabs <- data.frame(index = rownames(vs), unclass(vs)[, 1:6], row.names = NULL)
names(tabs) <- names(tab)
write.csv(tabs, file.path(out, "validate_sparse_rms.csv"), row.names = FALSE)
write.csv(data.frame(unclass(cs)[, c("predy", "calibrated.orig", "calibrated.corrected",
                                     "training", "test", "optimism", "n")], row.names = NULL),
          file.path(out, "validate_sparse_calibrate.csv"), row.names = FALSE)

# lrm.fit's iterations where the cases above do not reach: complete separation (not converged
# in 11 iterations: fail), and a step that raises -2 log L and is halved (Cauchy covariates;
# seeds found by searching lrm.fit(trace = TRUE) output), once ending in failure, once converged.
# Coefficients where lrm.fit stops are written even when it failed.
lrm_cases <- list()
for (nn in c(20, 100, 400)) {
  xx <- seq_len(nn)
  lrm_cases[[paste0("separated_", nn)]] <- list(x = cbind(xx), y = as.integer(xx > nn / 2))
}
for (sd in c(1315, 2028)) {
  set.seed(sd); nn <- sample(8:20, 1)
  xx <- cbind(rcauchy(nn), rcauchy(nn)); yy <- rbinom(nn, 1, 0.5)
  lrm_cases[[paste0("halving_", sd)]] <- list(x = xx, y = yy)
}
lrm_rows <- list()
for (nm in names(lrm_cases)) {
  cs <- lrm_cases[[nm]]
  tr <- capture.output(f <- lrm.fit(cs$x, cs$y, maxit = 12, tol = 1e-12, trace = TRUE))
  v <- tr[grep("-2LL", tr) + 1]
  steps <- sapply(strsplit(trimws(sub("\\[1\\]", "", v)), " +"), function(z) as.numeric(z[2]))
  b <- unname(coef(f))
  lrm_rows[[nm]] <- data.frame(case = nm, row = seq_along(cs$y), y = cs$y,
                               x1 = cs$x[, 1], x2 = if (ncol(cs$x) > 1) cs$x[, 2] else NA,
                               fail = f$fail, halvings = sum(steps < 1),
                               b0 = b[1], b1 = b[2], b2 = if (length(b) > 2) b[3] else NA,
                               deviance = f$deviance[2])
}
lrm_rows <- do.call(rbind, lrm_rows)
stopifnot(sum(tapply(lrm_rows$halvings, lrm_rows$case, max) > 0) == 2)
write.csv(lrm_rows, file.path(out, "validate_lrm_iterations.csv"), row.names = FALSE)

# R's qr(a, tol)$rank (LINPACK dqrdc2), by which lrm.fit and solvet call a matrix singular:
# information matrices X'WX with weights down to 1e-14 (a clipped linear predictor), nearly
# collinear columns and negligible columns, at validate's and calibrate's tolerances.
set.seed(7)
rk <- list()
for (m in 1:60) {
  k <- 2 + m %% 5
  X <- matrix(rnorm(40 * k), 40, k)
  if (m %% 3 == 1) X[, k] <- X[, 1] + 10^-runif(1, 5, 9) * rnorm(40)
  w <- if (m %% 3 == 2) c(rep(1e-14, 5), runif(35, 0, 0.25)) * (X[, k] > 1) + 1e-15 else
    runif(40, 0, 0.25)
  A <- crossprod(X, X * w)
  rk[[m]] <- data.frame(matrix = m, k = k, i = rep(seq_len(k), k), j = rep(seq_len(k), each = k),
                        value = as.vector(A), rank_1e12 = qr(A, tol = 1e-12)$rank,
                        rank_1e13 = qr(A, tol = 1e-13)$rank, rank_1e7 = qr(A, tol = 1e-7)$rank)
}
rk <- do.call(rbind, rk)
write.csv(rk, file.path(out, "validate_qr_rank.csv"), row.names = FALSE)

writeLines(c(R.version.string,
             paste("rms", packageVersion("rms")), paste("Hmisc", packageVersion("Hmisc")),
             "RNGkind: Mersenne-Twister / Inversion / Rejection (R >= 3.6 default)",
             paste("seed 20261121, B =", B),
             paste("sparse-level case: data seed 613, resampling seed 2, B =", Bs)),
           file.path(out, "validate_versions.txt"))
