# Reference values for rms::validate in tests/test_calibration.py.
#
# Run from the repository root:  Rscript tests/reference/validate.R
# Writes tests/reference/validate_indices.csv (the bootstrap resamples, 1-based row numbers),
# validate_rms.csv (rms::validate's table for those resamples), validate_gini.csv
# (Hmisc::GiniMd) and validate_versions.txt.
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

writeLines(c(R.version.string,
             paste("rms", packageVersion("rms")), paste("Hmisc", packageVersion("Hmisc")),
             "RNGkind: Mersenne-Twister / Inversion / Rejection (R >= 3.6 default)",
             paste("seed 20261121, B =", B)),
           file.path(out, "validate_versions.txt"))
