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
    function signed(result) {
      form.elements.signature_cms.value = result.cms;
      form.elements.signature_certificate.value = result.certificate || "";
      form.elements.signature_chain.value = Array.isArray(result.chain)
        ? result.chain.join("\n")
        : result.chain || "";
      say(form.dataset.messageSigned, false);
      form.submit();
    }
    function failed(error) {
      busy = false;
      button.removeAttribute("aria-disabled");
      // egovSigner's errors carry a translated message; anything else gets ours.
      say((error && error.code && error.message) || form.dataset.messageFailed, true);
    }
    window.egovSigner.sign(form.dataset.digest, form.dataset.description).then(signed, function (error) {
      if (error && error.code === "popup_blocked" && error.consentUrl && error.result) {
        // The request waits: the person opens the signer's page by the link instead.
        say(error.message, true);
        var link = document.createElement("a");
        link.className = "govuk-link";
        link.href = error.consentUrl;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = form.dataset.messageOpen;
        status.appendChild(document.createTextNode(" "));
        status.appendChild(link);
        error.result.then(signed, failed);
        return;
      }
      failed(error);
    });
  });
})();
