# R's order of text levels (tests/test_collation.py reads the output; the tests never need R).
# Run from the repository root:  Rscript tests/reference/collation.R
# Writes tests/reference/collation_R.csv and collation_versions.txt.
#
# factor(), sort() and table() order strings by the locale's collation. This R is built with
# ICU, so in any non-C locale it uses ICU's collator; en_US has no tailoring, so C.UTF-8 (the
# only UTF-8 locale installed here) and icuSetCollate(locale = "en_US") give the same order,
# which the script checks. For comparison the "C" locale's order (code points) is written too.
stopifnot(capabilities("ICU"))
out <- "tests/reference"
strings <- c(
  # the issue's example and case/accents
  "ductal", "Lobular", "mixed", "Mixed", "MIXED", "Ductal", "ductal ", "a", "A", "b", "B",
  "ab", "Ab", "aB", "\u00e1b", "\u00c1B", "ac", "e", "E", "\u00e9", "\u00c9", "\u00e8", "\u00ea",
  "\u00eb", "f", "\uff46", "resume", "Resume", "r\u00e9sum\u00e9", "R\u00e9sum\u00e9", "resumes",
  # digits and numbers as text (no numeric collation)
  "10", "9", "2", "a10", "a9", "a1", "T1", "T10", "T2", "1st", "First", "first",
  # punctuation, spaces, symbols
  "", "_x", "x_", "-1", "+1", "(a)", "[a]", "a.b", "a b", "a-1", "a 1", "a_1", "#1", "no.1",
  "No 1", "co-op", "coop", "co op", "Coop", "<5 cm", ">=5 cm", "5-10", "$5", "~a", "a/b",
  "NA", "na", "N/A",
  # Latin letters outside ASCII
  "\u00f8", "o", "oe", "oz", "\u00d6", "\u00f6", "\u00df", "ss", "st", "\u00e6", "ae", "af",
  "ad", "\u00f0", "d", "de", "\u00fe", "z", "zz", "th", "\u00ed", "i", "\u00f1", "n", "nz",
  "\u00e7", "c", "cz", "\u00e5", "\u00e4", "\u00e3", "\u00e0", "\u00e2", "\u0101", "\u010d",
  # other scripts
  "\u03b1", "\u03b2", "\u00b5", "m", "\u044f", "\u0430", "\ud55c", "\u3042", "\u30a2",
  "\u4e2d", "\u4e59", "\u4e8c", "\u2161", "II", "\u00aa"
)
stopifnot(!anyDuplicated(strings))
# and 400 random short strings over an alphabet mixing case, accents, digits and punctuation
set.seed(20261206)
alphabet <- c(letters[1:5], LETTERS[1:5], "\u00e9", "\u00c9", "\u00e8", "\u00e4", "\u00df",
              "\u00f8", "0", "1", "9", " ", "-", "_", ".", "(", "/")
random <- unique(replicate(400, paste(sample(alphabet, sample(1:4, 1), TRUE), collapse = "")))
random <- setdiff(random, strings)
Sys.setlocale("LC_COLLATE", "C.UTF-8")
icu_root <- sort(strings)
icuSetCollate(locale = "en_US")
icu_en <- sort(strings)
stopifnot(identical(icu_root, icu_en))
icu_random <- sort(random)
# ties (strings the collator calls equal) would make the order ambiguous: none here
stopifnot(!anyDuplicated(rank(strings, ties.method = "min")))
stopifnot(!anyDuplicated(rank(random, ties.method = "min")))
factor_levels <- levels(factor(c("mixed", "Lobular", "ductal", "Lobular")))
ascii <- sort(sapply(32:126, intToUtf8))
Sys.setlocale("LC_COLLATE", "C")
c_order <- sort(strings)
res <- data.frame(
  kind = c(rep("en_US", length(icu_en)), rep("en_US_random", length(icu_random)), rep("C", length(c_order)),
           rep("factor_levels", length(factor_levels)), rep("ascii", length(ascii))),
  position = c(seq_along(icu_en), seq_along(icu_random), seq_along(c_order), seq_along(factor_levels), seq_along(ascii)),
  # code points, so the CSV round-trips whitespace and empty strings exactly
  codepoints = sapply(c(icu_en, icu_random, c_order, factor_levels, ascii),
                      function(s) paste(utf8ToInt(s), collapse = " ")),
  stringsAsFactors = FALSE)
write.csv(res, file.path(out, "collation_R.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("ICU", extSoftVersion()[["ICU"]]),
             "LC_COLLATE C.UTF-8 (ICU root) == icuSetCollate(locale = 'en_US'); and C"),
           file.path(out, "collation_versions.txt"))
