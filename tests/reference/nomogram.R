# Reference values for tests/test_nomogram.py and tests/test_calibration.py.
#
# Run from the repository root:  Rscript tests/reference/nomogram.R
# Writes tests/reference/nomogram_*.csv / calibration_*.csv and nomogram_versions.txt.
#
# Data: MASS::birthwt (Hosmer & Lemeshow 1989, Applied Logistic Regression, Wiley; distributed
# with MASS under GPL-2 | GPL-3).  Exported unchanged except that `race` is written as a label
# (1 = white, 2 = black, 3 = other), as in Hosmer & Lemeshow's tables.
#
# ResourceSelection is not installable here (no CRAN access), so hoslem.test is re-implemented
# below in plain R, line by line after ResourceSelection 0.3-6 (Lele, Keim & Solymos):
#   qq <- unique(quantile(yhat, probs = seq(0, 1, 1/g)))
#   cutyhat <- cut(yhat, breaks = qq, include.lowest = TRUE)
#   observed <- xtabs(cbind(1 - y, y) ~ cutyhat); expected <- xtabs(cbind(1 - yhat, yhat) ~ cutyhat)
#   chisq <- sum((observed - expected)^2 / expected); p <- 1 - pchisq(chisq, g - 2)
suppressPackageStartupMessages({library(MASS); library(rms)})
options(digits = 15)
out <- "tests/reference"
w <- function(df, name) write.csv(df, file.path(out, name), row.names = FALSE)

bw <- MASS::birthwt
bw$race <- factor(c("white", "black", "other")[bw$race], levels = c("white", "black", "other"))
w(bw[, c("low", "age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv", "bwt")], "birthwt.csv")

# ---- glm coefficients and SEs at the final estimate --------------------------------------
coef_table <- function(f, model) {
  X <- model.matrix(f); b <- coef(f); p <- plogis(drop(X %*% b))
  V <- solve(crossprod(X, X * (p * (1 - p))))   # information at the final estimate
  data.frame(model = model, term = names(b), estimate = unname(b), se = sqrt(diag(V)),
             se_summary_glm = summary(f)$coefficients[, 2], loglik = as.numeric(logLik(f)),
             aic = AIC(f), deviance = deviance(f))
}
f_full <- glm(low ~ age + lwt + race + smoke + ptl + ht + ui, binomial, bw)
f_t22 <- glm(low ~ age + lwt + race + ftv, binomial, bw)   # Hosmer & Lemeshow 2000, Table 2.2
w(rbind(coef_table(f_full, "full"), coef_table(f_t22, "hl2000_table2_2")), "nomogram_glm.csv")

# ---- univariate models (one glm per predictor) -------------------------------------------
uni <- do.call(rbind, lapply(c("age", "lwt", "race", "smoke", "ptl", "ht", "ui"), function(v) {
  f <- glm(reformulate(v, "low"), binomial, bw); s <- summary(f)$coefficients
  ci <- confint.default(f)
  data.frame(predictor = v, term = rownames(s)[-1], estimate = s[-1, 1], p_value = s[-1, 4],
             or_ci_low = exp(ci[-1, 1]), or_ci_high = exp(ci[-1, 2]))
}))
w(uni, "nomogram_univariate.csv")

# ---- backward elimination: step() (AIC, refits) and the Wald p-value rule with refits -------
f_step <- step(f_full, direction = "backward", trace = 0)
w(data.frame(kept = attr(terms(f_step), "term.labels"), aic = AIC(f_step)), "nomogram_step_aic.csv")
cur <- c("age", "lwt", "race", "smoke", "ptl", "ht", "ui"); removed <- character(0)
repeat {
  f <- glm(reformulate(cur, "low"), binomial, bw)
  a <- drop1(f, test = "Chisq")   # only for the term list; Wald tests below
  pw <- sapply(cur, function(v) {
    idx <- grep(paste0("^", v), names(coef(f)))
    b <- coef(f)[idx]; V <- vcov(f)[idx, idx, drop = FALSE]
    pchisq(drop(t(b) %*% solve(V) %*% b), length(idx), lower.tail = FALSE)
  })
  if (max(pw) <= 0.05) break
  removed <- c(removed, names(which.max(pw))); cur <- setdiff(cur, names(which.max(pw)))
}
w(data.frame(kept = cur), "nomogram_backward_p.csv")
w(data.frame(removed = removed), "nomogram_backward_p_removed.csv")

# ---- Hosmer-Lemeshow (ResourceSelection grouping, plain R) and le Cessie-van Houwelingen -----
hoslem <- function(y, yhat, g = 10) {
  qq <- unique(quantile(yhat, probs = seq(0, 1, 1/g)))
  cutyhat <- cut(yhat, breaks = qq, include.lowest = TRUE)
  observed <- xtabs(cbind(y0 = 1 - y, y1 = y) ~ cutyhat)
  expected <- xtabs(cbind(yhat0 = 1 - yhat, yhat1 = yhat) ~ cutyhat)
  chisq <- sum((observed - expected)^2 / expected)
  list(statistic = chisq, df = g - 2, p = 1 - pchisq(chisq, g - 2),
       table = data.frame(group = levels(cutyhat), observed_0 = observed[, 1],
                          observed_1 = observed[, 2], expected_0 = expected[, 1],
                          expected_1 = expected[, 2]))
}
p_full <- fitted(f_full)
hl <- hoslem(bw$low, p_full, 10)
w(data.frame(model = "full", statistic = hl$statistic, df = hl$df, p_value = hl$p),
  "calibration_hoslem.csv")
w(hl$table, "calibration_hoslem_table.csv")
hl5 <- hoslem(bw$low, p_full, 5)
w(data.frame(statistic = hl5$statistic, df = hl5$df, p_value = hl5$p), "calibration_hoslem_g5.csv")

lrm_full <- lrm(low ~ age + lwt + race + smoke + ptl + ht + ui, data = bw, x = TRUE, y = TRUE)
gof <- residuals(lrm_full, type = "gof")
w(data.frame(sse = gof[1], expected = gof[2], sd = gof[3], z = gof[4], p_value = gof[5]),
  "calibration_lecessie.csv")

# ---- val.prob on predictions of a model fitted on odd rows, applied to even rows ----------
odd <- seq(1, nrow(bw), by = 2); even <- seq(2, nrow(bw), by = 2)
f_dev <- glm(low ~ age + lwt + race + smoke + ptl + ht + ui, binomial, bw[odd, ])
p_val <- predict(f_dev, newdata = bw[even, ], type = "response")
vp <- val.prob(p_val, bw$low[even], pl = FALSE)
w(data.frame(stat = names(vp), value = unname(vp)), "calibration_valprob.csv")
w(data.frame(p = unname(p_val), y = bw$low[even]), "calibration_valprob_input.csv")
sm <- lowess(p_val, bw$low[even], iter = 0)
w(data.frame(x = sm$x, y = sm$y), "calibration_lowess.csv")

# ---- rms::nomogram --------------------------------------------------------------------------
nomo_dump <- function(nom, model) {
  info <- attr(nom, "info"); rows <- list()
  for (nm in names(nom)) {
    s <- nom[[nm]]
    if (nm == "total.points") {
      rows[[nm]] <- data.frame(axis = nm, value = as.character(s$x), points = s$x)
    } else if (nm == "lp") {
      rows[[nm]] <- data.frame(axis = nm, value = as.character(s$x.real), points = s$x)
    } else if (!is.null(s$fat)) {
      rows[[nm]] <- data.frame(axis = "probability", value = as.character(s$x.real), points = s$x)
    } else {
      rows[[nm]] <- data.frame(axis = nm, value = as.character(s[[1]]), points = s$points)
    }
  }
  d <- do.call(rbind, rows); d$model <- model; d$sc <- info$sc; d$intercept <- info$Intercept
  d
}
dd <- datadist(bw); options(datadist = "dd")
m1 <- lrm(low ~ lwt + smoke, data = bw)
n1 <- nomogram(m1, fun = plogis, fun.at = c(0.1, 0.2, 0.3, 0.4, 0.5, 0.6), funlabel = "Risk")
m2 <- lrm(low ~ age + race + ptl + ht, data = bw)
n2 <- nomogram(m2, fun = plogis, funlabel = "Risk")   # default fun.at (pretty)
w(rbind(nomo_dump(n1, "lwt_smoke"), nomo_dump(n2, "age_race_ptl_ht")), "nomogram_points.csv")
w(data.frame(model = c("lwt_smoke", "age_race_ptl_ht"),
             intercept = c(coef(m1)[1], coef(m2)[1])), "nomogram_points_coef.csv")

writeLines(c(R.version.string, paste("rms", packageVersion("rms")),
             paste("MASS", packageVersion("MASS")), paste("Hmisc", packageVersion("Hmisc"))),
           file.path(out, "nomogram_versions.txt"))

# ---- exact C / Dxy (Hmisc::somers2) for the val.prob input -----------------------------------
# val.prob's "C (ROC)" and "Dxy" come from lrm.fit's Fortran routine, which bins predicted
# probabilities; somers2 gives the exact Mann-Whitney values that radiomics_aln reports.
library(Hmisc)
s2 <- somers2(p_val, bw$low[even])
w(data.frame(c_index = s2[["C"]], dxy = s2[["Dxy"]]), "calibration_somers2.csv")
