/* Modell's only script, and nothing depends on it: after a refused submission, focus goes
   to the summary of what to correct, so a screen reader reads it first and a keyboard user
   starts from its links (WCAG 3.3.1, 2.4.3). */
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary") || document.querySelector("[data-refused]");
  if (summary) {
    summary.focus();
  }
});
