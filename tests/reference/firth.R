# Reference values for Firth's penalized logistic regression (tests/test_nomogram.py).
#
# Run from the repository root:  Rscript tests/reference/firth.R
# Writes tests/reference/firth_coef.csv and firth_versions.txt.
#
# logistf is not installable here (no CRAN access); brglm2 is (Debian r-cran-brglm2). For a
# logistic model with the canonical link, brglm2's mean bias reduction (type = "AS_mean") solves
# Firth's (1993) modified score equations, i.e. maximises the Jeffreys-prior penalised
# likelihood l(b) + log|I(b)|/2: the estimates logistf reports. Standard errors are the square
# roots of diag(I(b)^-1) at the estimate, as in both packages (logistf's default intervals are
# profile penalised-likelihood intervals instead; we report Wald intervals, and say so).
suppressPackageStartupMessages({library(brglm2)})
options(digits = 15)
out <- "tests/reference"
bw <- read.csv(file.path(out, "birthwt.csv"))
bw$race <- factor(bw$race, levels = c("white", "black", "other"))

fit_one <- function(formula, data, model) {
  f <- glm(formula, binomial, data, method = "brglmFit", type = "AS_mean", epsilon = 1e-12,
           maxit = 10000)
  X <- model.matrix(f); b <- coef(f); p <- plogis(drop(X %*% b))
  info <- crossprod(X, X * (p * (1 - p)))
  ll <- sum(dbinom(data[[all.vars(formula)[1]]], 1, p, log = TRUE))
  data.frame(model = model, term = names(b), estimate = unname(b),
             se = sqrt(diag(solve(info))), se_summary = summary(f)$coefficients[, 2],
             loglik = ll, penalized_loglik = ll + 0.5 * determinant(info)$modulus[1],
             converged = f$converged)
}

# 1. a well-behaved model: Firth's estimates are the MLEs shrunk slightly towards zero
r1 <- fit_one(low ~ age + lwt + race + smoke + ptl + ht + ui, bw, "birthwt_full")
# 2. complete separation: a marker positive in every case with the outcome (MLE infinite)
sep <- bw
sep$marker <- as.integer(sep$low == 1)
r2 <- fit_one(low ~ age + marker, sep, "separated_marker")
# 3. quasi-complete separation: a level with events only (ht = 1 and low = 1 for all ht = 1)
quasi <- bw
quasi$ht[quasi$ht == 1 & quasi$low == 0] <- 0
r3 <- fit_one(low ~ lwt + smoke + ht, quasi, "quasi_separated_ht")
# 4. a tiny sample: 20 patients, 8 events
r4 <- fit_one(low ~ lwt + smoke, bw[c(1:12, 131:138), ], "small_n20")  # 8 events

# 5. a near-separated bootstrap resample of the demo study's clinical-radiomics model (written
#    by the Python side): Fisher scoring on the modified score converges only linearly here
slow <- read.csv(file.path(out, "firth_slow.csv"))
r5 <- fit_one(reformulate(setdiff(names(slow), "y"), "y"), slow, "slow_near_separated")
r5$term[1] <- "(Intercept)"

write.csv(rbind(r1, r2, r3, r4, r5), file.path(out, "firth_coef.csv"), row.names = FALSE)
write.csv(sep[, c("low", "age", "marker")], file.path(out, "firth_separated.csv"),
          row.names = FALSE)
write.csv(quasi[, c("low", "lwt", "smoke", "ht")], file.path(out, "firth_quasi.csv"),
          row.names = FALSE)
writeLines(c(R.version.string, paste("brglm2", packageVersion("brglm2"))),
           file.path(out, "firth_versions.txt"))
