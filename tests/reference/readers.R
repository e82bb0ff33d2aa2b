# Reference values for the reader study (issue 16): radiomics_aln.readers and .agreement.
#   readers_R.csv       per reader and session of tests/reference/readers_data.csv (90 cases,
#                       3 readers, unaided/aided; ratings 1-5, calls, truth y, model p):
#                       AUC with DeLong CI (pROC::ci.auc) from ratings and from calls; the
#                       model's AUC; Wilson intervals (prop.test(correct = FALSE)); paired
#                       DeLong aided vs unaided and model vs reader (pROC::roc.test);
#                       exact McNemar (binom.test on the discordant pairs) and the chi-square
#                       McNemar (mcnemar.test, corrected and not); Cohen's kappa
#                       (psych::cohen.kappa: unweighted estimate, var.kappa and confid;
#                       weighted estimates with quadratic and linear weights); the weighted
#                       variance of Fleiss, Cohen & Everitt (1969), written out below because
#                       psych 2.2.9's var.weighted is not that formula.
#   fleiss_R.csv        Fleiss' kappa (1971) and the null standard error of Fleiss, Nee & Landis
#                       (1979) on Fleiss' psychiatric diagnoses (tests/reference/
#                       fleiss_diagnoses.csv: 30 patients x 6 raters, 5 diagnoses; the paper
#                       reports kappa = 0.430), written out below from the papers' formulas
#                       (package irr is not installed; irr 0.84.1's kappam.fleiss, run
#                       separately, gives the same kappa, z and p).
# Run from the repository root:  Rscript tests/reference/readers.R
suppressMessages({library(pROC); library(psych)})
out <- "tests/reference"
d <- read.csv(file.path(out, "readers_data.csv"), colClasses = c(case_id = "character"))
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)
num <- function(x) sprintf("%.17g", x)
get <- function(reader, session) {
  x <- d[d$reader == reader & d$session == session, ]
  x[order(x$case_id), ]
}
readers <- unique(d$reader)
sessions <- c("unaided", "aided")
base <- get(readers[1], "unaided")
y <- base$y
p <- base$p
model <- roc(y, p, direction = "<", levels = c(0, 1), quiet = TRUE)
ci <- ci.auc(model, method = "delong")
add(what = "auc", reader = "model", session = "model", source = "p", key = "",
    value = num(ci[2]), low = num(ci[1]), high = num(ci[3]))

fce_var <- function(a, b, w) {
  k <- nrow(w)
  x <- table(factor(a, 1:k), factor(b, 1:k)) / length(a)
  pr <- rowSums(x); pc <- colSums(x)
  po <- sum(w * x); pe <- sum(w * outer(pr, pc))
  wi <- as.vector(w %*% pc); wj <- as.vector(t(w) %*% pr)
  (sum(x * (w * (1 - pe) - outer(wi, wj, "+") * (1 - po))^2) - (po * pe - 2 * pe + po)^2) /
    (length(a) * (1 - pe)^4)
}
wq <- 1 - abs(outer(1:5, 1:5, "-"))^2 / 16
wl <- 1 - abs(outer(1:5, 1:5, "-")) / 4

for (r in readers) {
  for (s in sessions) {
    x <- get(r, s)
    stopifnot(all(x$y == y))
    for (src in c("rating", "call")) {
      ro <- roc(y, x[[src]], direction = "<", levels = c(0, 1), quiet = TRUE)
      ci <- ci.auc(ro, method = "delong")
      add(what = "auc", reader = r, session = s, source = src, key = "",
          value = num(ci[2]), low = num(ci[1]), high = num(ci[3]))
      if (src == "rating") {
        t <- roc.test(model, ro, method = "delong", paired = TRUE)
        add(what = "delong_model", reader = r, session = s, source = src, key = "z",
            value = num(t$statistic), low = num(t$conf.int[1]), high = num(t$conf.int[2]))
        add(what = "delong_model", reader = r, session = s, source = src, key = "p",
            value = num(t$p.value), low = "", high = "")
      }
    }
    tp <- sum(x$call == 1 & y == 1); fp <- sum(x$call == 1 & y == 0)
    tn <- sum(x$call == 0 & y == 0); fn <- sum(x$call == 0 & y == 1)
    counts <- list(accuracy = c(tp + tn, length(y)), sensitivity = c(tp, tp + fn),
                   specificity = c(tn, tn + fp), ppv = c(tp, tp + fp), npv = c(tn, tn + fn))
    for (m in names(counts)) {
      k <- counts[[m]]
      pt <- prop.test(k[1], k[2], correct = FALSE)
      add(what = "wilson", reader = r, session = s, source = "call", key = m,
          value = num(k[1] / k[2]), low = num(pt$conf.int[1]), high = num(pt$conf.int[2]))
    }
    truth <- cohen.kappa(cbind(x$call, y))
    add(what = "kappa_truth", reader = r, session = s, source = "call", key = "",
        value = num(truth$kappa), low = num(truth$confid[1, 1]), high = num(truth$confid[1, 3]))
    add(what = "kappa_truth_var", reader = r, session = s, source = "call", key = "",
        value = num(truth$var.kappa), low = "", high = "")
  }
  u <- get(r, "unaided"); a <- get(r, "aided")
  for (src in c("rating", "call")) {
    t <- roc.test(roc(y, a[[src]], direction = "<", levels = c(0, 1), quiet = TRUE),
                  roc(y, u[[src]], direction = "<", levels = c(0, 1), quiet = TRUE),
                  method = "delong", paired = TRUE)
    add(what = "delong_session", reader = r, session = "aided", source = src, key = "z",
        value = num(t$statistic), low = num(t$conf.int[1]), high = num(t$conf.int[2]))
    add(what = "delong_session", reader = r, session = "aided", source = src, key = "p",
        value = num(t$p.value), low = "", high = "")
  }
  parts <- list(accuracy = list(u$call == y, a$call == y),
                sensitivity = list(u$call[y == 1] == 1, a$call[y == 1] == 1),
                specificity = list(u$call[y == 0] == 0, a$call[y == 0] == 0))
  for (m in names(parts)) {
    x1 <- parts[[m]][[1]]; x2 <- parts[[m]][[2]]
    b <- sum(x1 & !x2); cc <- sum(!x1 & x2)
    pe <- if (b + cc > 0) binom.test(cc, b + cc)$p.value else 1
    tab <- table(factor(x1, c(TRUE, FALSE)), factor(x2, c(TRUE, FALSE)))
    m1 <- mcnemar.test(tab); m0 <- mcnemar.test(tab, correct = FALSE)
    add(what = "mcnemar", reader = r, session = "aided", source = "call", key = m,
        value = num(pe), low = num(b), high = num(cc))
    add(what = "mcnemar_chisq", reader = r, session = "aided", source = "call", key = m,
        value = num(m1$p.value), low = num(m1$statistic), high = "")
    add(what = "mcnemar_chisq_uncorrected", reader = r, session = "aided", source = "call",
        key = m, value = num(m0$p.value), low = num(m0$statistic), high = "")
  }
}
for (s in sessions) {
  for (pair in combn(readers, 2, simplify = FALSE)) {
    a <- get(pair[1], s); b <- get(pair[2], s)
    k <- cohen.kappa(cbind(a$call, b$call))
    add(what = "kappa_call", reader = paste(pair, collapse = "|"), session = s, source = "call",
        key = "", value = num(k$kappa), low = num(k$confid[1, 1]), high = num(k$confid[1, 3]))
    kq <- cohen.kappa(cbind(a$rating, b$rating), levels = 1:5)
    kl <- cohen.kappa(cbind(a$rating, b$rating), w = wl, levels = 1:5)
    add(what = "kappa_rating_unweighted", reader = paste(pair, collapse = "|"), session = s,
        source = "rating", key = "", value = num(kq$kappa), low = num(kq$confid[1, 1]),
        high = num(kq$confid[1, 3]))
    for (wn in c("quadratic", "linear")) {
      kw <- if (wn == "quadratic") kq else kl
      w <- if (wn == "quadratic") wq else wl
      v <- fce_var(a$rating, b$rating, w)
      z <- qnorm(0.975)
      add(what = "kappa_rating", reader = paste(pair, collapse = "|"), session = s,
          source = "rating", key = wn, value = num(kw$weighted.kappa),
          low = num(max(-1, kw$weighted.kappa - z * sqrt(v))),
          high = num(min(1, kw$weighted.kappa + z * sqrt(v))))
      add(what = "kappa_rating_var", reader = paste(pair, collapse = "|"), session = s,
          source = "rating", key = wn, value = num(v), low = num(kw$var.weighted), high = "")
    }
  }
}
res <- do.call(rbind, rows)
write.csv(res, file.path(out, "readers_R.csv"), row.names = FALSE)

# Fleiss (1971) kappa and the Fleiss, Nee & Landis (1979) null standard error
dg <- as.matrix(read.csv(file.path(out, "fleiss_diagnoses.csv"))[, -1])
N <- nrow(dg); m <- ncol(dg)
counts <- t(apply(dg, 1, function(r) tabulate(r, nbins = 5)))
pj <- colSums(counts) / (N * m); qj <- 1 - pj
Pi <- (rowSums(counts^2) - m) / (m * (m - 1))
pe <- sum(pj^2)
kappa <- (mean(Pi) - pe) / (1 - pe)
se0 <- sqrt(2 * (sum(pj * qj)^2 - sum(pj * qj * (qj - pj))) / (sum(pj * qj)^2 * N * m * (m - 1)))
z <- kappa / se0
fl <- data.frame(kappa = num(kappa), se = num(se0), z = num(z), p = num(2 * pnorm(-abs(z))))
write.csv(fl, file.path(out, "fleiss_R.csv"), row.names = FALSE)

writeLines(c(R.version.string, paste("pROC", packageVersion("pROC")),
             paste("psych", packageVersion("psych")),
             "stats::binom.test, stats::mcnemar.test, stats::prop.test"),
           file.path(out, "readers_versions.txt"))
