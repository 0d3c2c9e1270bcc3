// Signing an application before it is sent: the check page's form carries the digest of
// what is signed and a description; the person's e-ID signer (egovSigner, signer.js) asks
// for their consent and returns a detached CMS, which the form posts with the submission.
// The server recomputes the digest and checks everything again.
(function () {
  "use strict";
  var form = document.querySelector("form[data-egov-sign]");
  if (!form) {
    return;
  }
  var status = document.getElementById("sign-status");
  var button = form.querySelector("button[type=submit]");
  var busy = false;

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "govuk-error-message" : "govuk-body";
  }

  form.addEventListener("submit", function (event) {
    if (form.elements.signature_cms.value) {
      return; // signed: send it
    }
    event.preventDefault();
    if (busy) {
      return;
    }
    if (!window.egovSigner) {
      say(form.dataset.messageUnavailable, true);
      return;
    }
    busy = true;
    button.setAttribute("aria-disabled", "true");
    say(form.dataset.messageWaiting, false);
    window.egovSigner
      .sign(form.dataset.digest, form.dataset.description)
      .then(function (result) {
        form.elements.signature_cms.value = result.cms;
        form.elements.signature_certificate.value = result.certificate || "";
        form.elements.signature_chain.value = Array.isArray(result.chain)
          ? result.chain.join("\n")
          : result.chain || "";
        say(form.dataset.messageSigned, false);
        form.submit();
      })
      .catch(function () {
        busy = false;
        button.removeAttribute("aria-disabled");
        say(form.dataset.messageFailed, true);
      });
  });
})();
