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
# ---- logistf's default inference, in plain R (logistf itself is not installable here) -------
# Heinze & Schemper (2002), as logistf implements it: the penalised likelihood ratio test of
# b_j = 0 and the profile penalised-likelihood interval {b: 2 (pll(b_hat) - max pll | b_j = b)
# <= qchisq(0.95, 1)}, with the penalty of the full model in the restricted fits. The restricted
# maximum uses optim(BFGS) with the exact gradient (Firth's modified score), the interval limits
# uniroot at tolerance 1e-11.
pll_fun <- function(b, X, y) {
  p <- plogis(drop(X %*% b)); I <- crossprod(X, X * (p * (1 - p)))
  sum(dbinom(y, 1, p, log = TRUE)) + 0.5 * determinant(I)$modulus[1]
}
score_fun <- function(b, X, y) {
  p <- plogis(drop(X %*% b)); w <- p * (1 - p); I <- crossprod(X, X * w)
  h <- w * rowSums((X %*% solve(I)) * X)
  drop(crossprod(X, y - p + h * (0.5 - p)))
}
warm <- new.env()   # the last restricted maximum: the start of the next one (a path of values)
restricted <- function(j, value, X, y, start) {
  if (!is.null(warm$b)) start <- warm$b
  fn <- function(bf) { b <- start; b[-j] <- bf; b[j] <- value; -pll_fun(b, X, y) }
  gr <- function(bf) { b <- start; b[-j] <- bf; b[j] <- value; -score_fun(b, X, y)[-j] }
  o <- optim(start[-j], fn, gr, method = "BFGS", control = list(reltol = 1e-15, maxit = 10000))
  b <- start; b[-j] <- o$par; b[j] <- value; warm$b <- b
  -o$value
}
logistf_inference <- function(formula, data, model) {
  f <- glm(formula, binomial, data, method = "brglmFit", type = "AS_mean", epsilon = 1e-12,
           maxit = 10000)
  X <- model.matrix(f); y <- f$y; b <- coef(f); top <- pll_fun(b, X, y)
  se <- sqrt(diag(solve(crossprod(X, X * (fitted(f) * (1 - fitted(f)))))))
  q <- qchisq(0.95, 1)
  rows <- lapply(seq_along(b), function(j) {
    prof <- function(v) restricted(j, v, X, y, b) - (top - q / 2)
    lim <- sapply(c(-1, 1), function(s) {
      warm$b <- b
      step <- se[j]; inner <- b[j]; outer <- b[j] + s * step
      while (prof(outer) > 0) { inner <- outer; step <- 1.5 * step; outer <- inner + s * step }
      uniroot(prof, sort(c(inner, outer)), tol = 1e-11)$root
    })
    warm$b <- b
    chi2 <- 2 * (top - restricted(j, 0, X, y, b))
    data.frame(model = model, term = names(b)[j], ci_low = lim[1], ci_high = lim[2],
               plr_chi2 = chi2, p_value = pchisq(chi2, 1, lower.tail = FALSE))
  })
  do.call(rbind, rows)
}
prof <- rbind(
  logistf_inference(low ~ age + lwt + race + smoke + ptl + ht + ui, bw, "birthwt_full"),
  logistf_inference(low ~ age + marker, sep, "separated_marker"),
  logistf_inference(low ~ lwt + smoke + ht, quasi, "quasi_separated_ht")
)
write.csv(prof, file.path(out, "firth_profile.csv"), row.names = FALSE)

write.csv(sep[, c("low", "age", "marker")], file.path(out, "firth_separated.csv"),
          row.names = FALSE)
write.csv(quasi[, c("low", "lwt", "smoke", "ht")], file.path(out, "firth_quasi.csv"),
          row.names = FALSE)
writeLines(c(R.version.string, paste("brglm2", packageVersion("brglm2"))),
           file.path(out, "firth_versions.txt"))
