# Reference values for tests/test_ordinal.py: proportional-odds (cumulative logit) models.
#
# Run from the repository root:  Rscript tests/reference/ordinal.R
# Writes tests/reference/ordinal_*.csv and ordinal_versions.txt.
#
# Data
#   ordinal_sim.csv  simulated here (set.seed below): 300 patients, two continuous predictors
#                    and a 3-level factor, y in 0/1/2 from a proportional-odds latent model;
#                    y_npo in 0/1/2 violates proportional odds (x1's slope differs by split).
#   warpbreaks       R's datasets::warpbreaks (Tukey 1977), unweighted: tension (L < M < H)
#                    modelled on breaks + wool, a published data set with an ordinal column.
#
# Fits: rms::lrm (eps = 1e-12 so that it converges fully; the default eps = .025 stops one
# Newton step after -2LL changed by < .025), MASS::polr (BFGS with a numerical Hessian: equal
# to lrm to ~1e-5 only, kept as a cross-check of the sign convention zeta = -alpha) and
# ordinal::clm (Newton with an analytical Hessian, gradTol 1e-12).
#
# Brant (1990) test: the `brant` package is not installed, so the statistic is built by hand
# from its definition (Brant 1990, Biometrics 46:1171-1178, eq. 2.3-2.5): K-1 binary logits
# glm(y >= j ~ x); Var(b_j) = inverse information of fit j; Cov(b_j, b_l) (j < l) =
# (X'W_j X)^-1 X'W_jl X (X'W_l X)^-1 with W_jl = diag(p_l (1 - p_j)), intercept rows dropped;
# X2 = (D b)' (D V D')^-1 (D b) with D the differences b_1 - b_j, df = p (K - 2); per predictor
# the same on its coefficients only, df = K - 2.
#
# Ordinal C: Harrell's generalized C over all pairs with different y (ties in the linear
# predictor count 1/2) = Hmisc::rcorr.cens(lp, y)["C Index"]; lrm's own C is also written (its
# Fortran bins predicted probabilities, so it agrees to ~1e-3 only).
suppressPackageStartupMessages({library(MASS); library(rms); library(ordinal)})
options(digits = 15)
out <- "tests/reference"
w <- function(df, name) write.csv(df, file.path(out, name), row.names = FALSE)

set.seed(20261206)
n <- 300
x1 <- round(rnorm(n, 0, 1), 4)
x2 <- round(runif(n, 20, 80), 2)
grp <- sample(c("a", "b", "c"), n, replace = TRUE, prob = c(0.4, 0.35, 0.25))
eta <- 0.9 * x1 + 0.03 * (x2 - 50) + c(a = 0, b = 0.6, c = -0.5)[grp]
u <- rlogis(n)
y <- as.integer(eta + u > -0.3) + as.integer(eta + u > 1.6)
# non-proportional: x1 matters for y >= 1 and much more for y >= 2
y_npo <- as.integer(0.3 * x1 + rlogis(n) > -0.2) * (1L + as.integer(2.5 * x1 + rlogis(n) > 0.8))
sim <- data.frame(y = y, y_npo = y_npo, x1 = x1, x2 = x2, grp = grp)
w(sim, "ordinal_sim.csv")
wb <- data.frame(tension = as.integer(warpbreaks$tension) - 1L, breaks = warpbreaks$breaks,
                 wool = as.character(warpbreaks$wool))
w(wb, "ordinal_warpbreaks.csv")

fit_all <- function(formula, data, model) {
  f <- lrm(formula, data = data, eps = 1e-12, maxit = 100, x = TRUE, y = TRUE)
  yname <- all.vars(formula)[1]
  d2 <- data; d2[[yname]] <- factor(d2[[yname]], ordered = TRUE)
  p <- polr(formula, data = d2, Hess = TRUE, control = list(reltol = 1e-14, maxit = 1000))
  cm <- clm(formula, data = d2, control = clm.control(gradTol = 1e-12, relTol = 1e-14))
  b <- coef(f); se <- sqrt(diag(vcov(f)))
  kint <- length(f$freq) - 1
  lp <- drop(f$x %*% b[-(1:kint)])
  rc <- rcorr.cens(lp, f$y)
  ps <- sqrt(diag(vcov(p)))
  coefs <- data.frame(model = model, term = names(b), estimate = unname(b), se = unname(se),
                      polr_estimate = c(-p$zeta, coef(p)), polr_se = c(ps[names(p$zeta)],
                      ps[names(coef(p))]), clm_estimate = c(-cm$alpha, cm$beta),
                      clm_se = c(sqrt(diag(vcov(cm)))[names(cm$alpha)],
                                 sqrt(diag(vcov(cm)))[names(cm$beta)]))
  stats <- data.frame(model = model, loglik = as.numeric(logLik(f)), polr_loglik =
                      as.numeric(logLik(p)), clm_loglik = as.numeric(logLik(cm)),
                      deviance_null = f$deviance[1], lr_chi2 = unname(f$stats["Model L.R."]),
                      c_exact = unname(rc["C Index"]), dxy_exact = unname(rc["Dxy"]),
                      c_lrm = unname(f$stats["C"]), dxy_lrm = unname(f$stats["Dxy"]),
                      n_iter = NA)
  list(fit = f, coefs = coefs, stats = stats, vcov = vcov(f))
}

brant_by_hand <- function(formula, data, model) {
  yname <- all.vars(formula)[1]
  y <- data[[yname]]; K <- length(unique(y))
  X <- model.matrix(lrm(formula, data = data, x = TRUE)$terms, data = data)
  X <- model.matrix(formula, data = data)
  p <- ncol(X) - 1
  fits <- lapply(1:(K - 1), function(j) {
    d <- data; d$z <- as.integer(y >= j)
    glm(update(formula, z ~ .), binomial, d, control = glm.control(epsilon = 1e-14, maxit = 100))
  })
  B <- sapply(fits, function(f) coef(f)[-1])          # p x (K-1)
  pr <- sapply(fits, fitted)                           # n x (K-1)
  V <- matrix(0, p * (K - 1), p * (K - 1))
  idx <- function(j) ((j - 1) * p + 1):(j * p)
  # the inverse information at the estimate (vcov(glm) uses the weights of the IRLS step
  # before the last one, ~1e-7 away)
  for (j in 1:(K - 1))
    V[idx(j), idx(j)] <- solve(crossprod(X, X * (pr[, j] * (1 - pr[, j]))))[-1, -1]
  for (j in 1:(K - 2)) for (l in (j + 1):(K - 1)) {
    Wj <- pr[, j] * (1 - pr[, j]); Wl <- pr[, l] * (1 - pr[, l]); Wjl <- pr[, l] * (1 - pr[, j])
    C <- solve(crossprod(X, X * Wj)) %*% crossprod(X, X * Wjl) %*% solve(crossprod(X, X * Wl))
    V[idx(j), idx(l)] <- C[-1, -1]; V[idx(l), idx(j)] <- t(C[-1, -1])
  }
  bstar <- as.vector(B)
  D <- do.call(rbind, lapply(2:(K - 1), function(j) {
    m <- matrix(0, p, p * (K - 1)); m[, idx(1)] <- diag(p); m[, idx(j)] <- -diag(p); m }))
  stat <- function(rows) {
    Dr <- D[rows, , drop = FALSE]; d <- Dr %*% bstar
    drop(t(d) %*% solve(Dr %*% V %*% t(Dr)) %*% d)
  }
  omni <- stat(seq_len(nrow(D)))
  rows <- data.frame(model = model, term = "omnibus", chi2 = omni, df = p * (K - 2),
                     p_value = pchisq(omni, p * (K - 2), lower.tail = FALSE))
  for (k in 1:p) {
    r <- k + p * (0:(K - 3)); s <- stat(r)
    rows <- rbind(rows, data.frame(model = model, term = colnames(X)[k + 1], chi2 = s,
                                   df = K - 2, p_value = pchisq(s, K - 2, lower.tail = FALSE)))
  }
  split_coef <- do.call(rbind, lapply(1:(K - 1), function(j)
    data.frame(model = model, split = j, term = names(coef(fits[[j]])),
               estimate = unname(coef(fits[[j]])))))
  list(test = rows, split = split_coef)
}

fits <- list(fit_all(y ~ x1 + x2 + grp, sim, "sim"),
             fit_all(y_npo ~ x1 + x2, sim, "sim_npo"),
             fit_all(tension ~ breaks + wool, wb, "warpbreaks"))
w(do.call(rbind, lapply(fits, `[[`, "coefs")), "ordinal_coef.csv")
w(do.call(rbind, lapply(fits, `[[`, "stats")), "ordinal_stats.csv")
vc <- fits[[1]]$vcov
w(data.frame(row = rep(rownames(vc), ncol(vc)), col = rep(colnames(vc), each = nrow(vc)),
             value = as.vector(vc)), "ordinal_vcov_sim.csv")

br <- list(brant_by_hand(y ~ x1 + x2 + grp, sim, "sim"),
           brant_by_hand(y_npo ~ x1 + x2, sim, "sim_npo"),
           brant_by_hand(tension ~ breaks + wool, wb, "warpbreaks"))
w(do.call(rbind, lapply(br, `[[`, "test")), "ordinal_brant.csv")
w(do.call(rbind, lapply(br, `[[`, "split")), "ordinal_brant_splits.csv")

# ---- the ordinal nomogram: one points scale, P(Y >= 1) and P(Y >= 2) axes -------------------
dd <- datadist(sim); options(datadist = "dd")
f <- fits[[1]]$fit
a <- coef(f)[1:2]
nom <- nomogram(f, fun = list(function(x) plogis(x), function(x) plogis(x - a[1] + a[2])),
                funlabel = c("P(Y>=1)", "P(Y>=2)"),
                fun.at = list(c(0.1, 0.3, 0.5, 0.7, 0.9), c(0.05, 0.1, 0.3, 0.5, 0.7)))
info <- attr(nom, "info"); rows <- list()
for (nm in names(nom)) {
  s <- nom[[nm]]
  if (nm == "total.points") {
    rows[[nm]] <- data.frame(axis = nm, value = as.character(s$x), points = s$x)
  } else if (nm == "lp" || !is.null(s$fat)) {
    rows[[nm]] <- data.frame(axis = nm, value = as.character(s$x.real), points = s$x)
  } else {
    rows[[nm]] <- data.frame(axis = nm, value = as.character(s[[1]]), points = s$points)
  }
}
d <- do.call(rbind, rows); d$sc <- info$sc; d$intercept <- info$Intercept
w(d, "ordinal_nomogram.csv")

writeLines(c(R.version.string, paste("rms", packageVersion("rms")),
             paste("MASS", packageVersion("MASS")), paste("Hmisc", packageVersion("Hmisc")),
             paste("ordinal", packageVersion("ordinal"))),
           file.path(out, "ordinal_versions.txt"))
