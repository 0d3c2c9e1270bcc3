// The e-ID login and step-up forms (identity/includes/eid_form.html): ask the portal for a
// one-time challenge, let egov signer sign it with the person's consent (egovSigner, in
// signer.js), then post the signer's answer. Without scripts the form stays hidden and a note
// says the e-ID needs them.
(function () {
  "use strict";

  function show(status, text, link) {
    status.textContent = text;
    if (link) {
      status.appendChild(document.createTextNode(" "));
      var anchor = document.createElement("a");
      anchor.className = "govuk-link";
      anchor.href = link.href;
      anchor.target = "_blank";
      anchor.rel = "noopener";
      anchor.textContent = link.text;
      status.appendChild(anchor);
    }
    status.hidden = false;
  }

  function challenge(form) {
    var body = new URLSearchParams();
    body.set("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    return fetch(form.getAttribute("data-challenge-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    }).then(function (response) {
      if (!response.ok) throw new Error("challenge " + response.status);
      return response.json();
    });
  }

  function submitted(form, answer, nonce) {
    form.elements.challenge.value = nonce;
    form.elements.certificate.value = answer.certificate;
    form.elements.chain.value = answer.chain || "";
    form.elements.signature.value = answer.signature;
    form.setAttribute("data-eid-ready", "true");
    form.submit();
  }

  function start(form) {
    var status = form.querySelector("[data-eid-status]");
    var button = form.querySelector("[data-eid-button]");
    button.disabled = true;
    var nonce = "";
    challenge(form)
      .then(function (body) {
        nonce = body.challenge;
        show(status, form.getAttribute("data-waiting"));
        return window.egovSigner.authenticate(nonce);
      })
      .then(function (answer) {
        submitted(form, answer, nonce);
      })
      .catch(function (error) {
        if (error && error.code === "popup_blocked" && error.result) {
          show(status, error.message, { href: error.consentUrl, text: form.getAttribute("data-open-link") });
          error.result.then(
            function (answer) {
              submitted(form, answer, nonce);
            },
            function (later) {
              show(status, later.message);
              button.disabled = false;
            }
          );
          return;
        }
        show(status, error && error.code ? error.message : form.getAttribute("data-failed"));
        button.disabled = false;
      });
  }

  var forms = document.querySelectorAll("[data-eid-form]");
  for (var index = 0; index < forms.length; index++) {
    var form = forms[index];
    // A button, not a submit: the form is sent by the script once the signer answered.
    form.querySelector("[data-eid-button]").addEventListener(
      "click",
      function (event) {
        var current = event.currentTarget.form;
        if (window.egovSigner && current.getAttribute("data-eid-ready") !== "true") start(current);
      }
    );
    form.hidden = false;
  }
  var notes = document.querySelectorAll("[data-eid-noscript]");
  for (var note = 0; note < notes.length; note++) notes[note].hidden = true;
})();
