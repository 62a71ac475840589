/**
 * The pages' one script, served as /static/site.js (script-src 'self': no inline script,
 * no event-handler attributes). Niceties only; every page works without it:
 * - copy buttons (`data-copy="<element id>"`), hidden until the script reveals them;
 * - forms marked `data-submit-once` disable their buttons once submitted (the server's
 *   idempotency key is what really stops a double order);
 * - the error summary, when present, takes focus so screen readers announce it.
 * Kept in a module, not a .js file, so the bundled store carries it.
 */
export const SITE_JS = `'use strict';
(function () {
  function announce(id, text) {
    var region = document.getElementById(id);
    if (region) region.textContent = text;
  }
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var status = button.getAttribute('data-status');
      navigator.clipboard.writeText(source.textContent.trim()).then(
        function () { announce(status, 'Copied to the clipboard.'); },
        function () { announce(status, 'Copying failed: select the text and copy it yourself.'); }
      );
    });
  });
  document.querySelectorAll('form[data-submit-once]').forEach(function (form) {
    form.addEventListener('submit', function () {
      // After this submit has been sent: a disabled button would not submit at all.
      setTimeout(function () {
        form.querySelectorAll('button[type="submit"], button:not([type])').forEach(function (b) {
          b.disabled = true;
        });
        form.setAttribute('aria-busy', 'true');
      }, 0);
    });
  });
  // Back to a page kept in the back/forward cache: its buttons work again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    document.querySelectorAll('form[data-submit-once]').forEach(function (form) {
      form.removeAttribute('aria-busy');
      form.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
    });
  });
  var summary = document.querySelector('.error-summary');
  if (summary) summary.focus();
})();
`;
