// egovSigner: the portal's pages talk to `egov signer` on the person's own computer
// (ADR 0010). Each call is a Promise; the person answers in the signer's own window.
//
//   egovSigner.status()                        -> {version, ready}
//   egovSigner.authenticate(challengeBase64)   -> {certificate, chain, signature}
//   egovSigner.sign(digestBase64, description) -> {certificate, chain, cms}
//
// A failure rejects with an Error whose `code` is one of: not_running, no_eid,
// origin_not_allowed, popup_blocked, refused, expired, failed; its message is translated
// (the texts come from the JSON block #egov-signer-config that the `signer_script` template
// tag writes next to this file). An external file: the Content-Security-Policy allows no
// inline script, and lets pages connect to the signer's address only.
(function () {
  "use strict";

  var config = { url: "http://127.0.0.1:8300", language: "", messages: {} };
  var element = document.getElementById("egov-signer-config");
  if (element) {
    try {
      var given = JSON.parse(element.textContent);
      config.url = (given.url || config.url).replace(/\/+$/, "");
      config.language = given.language || "";
      config.messages = given.messages || {};
    } catch (ignored) {
      // A broken configuration block: the defaults still reach a signer on its usual port.
    }
  }
  var POLL_MS = 1000;

  function failure(code, extra) {
    var error = new Error(config.messages[code] || config.messages.failed || code);
    error.code = code;
    if (extra) {
      for (var key in extra) {
        if (Object.prototype.hasOwnProperty.call(extra, key)) error[key] = extra[key];
      }
    }
    return error;
  }

  function call(path, options) {
    var settings = options || {};
    settings.mode = "cors";
    settings.credentials = "omit";
    settings.cache = "no-store";
    return fetch(config.url + path, settings).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            return { status: response.status, body: body };
          });
      },
      function () {
        // The signer does not answer (or refused CORS, which looks the same to a page).
        throw failure("not_running");
      }
    );
  }

  function status() {
    return call("/v1/status").then(function (answer) {
      if (answer.status !== 200) throw failure("origin_not_allowed");
      return answer.body;
    });
  }

  function wait(id, deadline) {
    return new Promise(function (resolve, reject) {
      function poll() {
        call("/v1/requests/" + encodeURIComponent(id)).then(function (answer) {
          var state = answer.body && answer.body.status;
          if (answer.status === 200 && state === "done") return resolve(answer.body);
          if (state === "refused") return reject(failure("refused"));
          if (state === "expired" || Date.now() > deadline) return reject(failure("expired"));
          if (answer.status !== 200) return reject(failure("failed"));
          window.setTimeout(poll, POLL_MS);
        }, reject);
      }
      window.setTimeout(poll, POLL_MS);
    });
  }

  function ask(request) {
    request.origin = window.location.origin;
    if (config.language) request.language = config.language;
    return status().then(function (state) {
      if (!state.ready) throw failure("no_eid");
      return call("/v1/requests", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(request),
      }).then(function (answer) {
        if (answer.status !== 201) {
          var code = answer.body && answer.body.error;
          throw failure(code === "origin_mismatch" || code === "origin_not_allowed" ? "origin_not_allowed" : "failed");
        }
        var consentUrl = answer.body.consent_url;
        var opened = window.open(consentUrl, "egov-signer", "popup,width=600,height=760");
        var deadline = Date.now() + ((answer.body.expires_in || 120) + 5) * 1000;
        var result = wait(answer.body.id, deadline);
        if (!opened) {
          // Still waiting: the page may offer the link itself (error.consentUrl).
          var blocked = failure("popup_blocked", { consentUrl: consentUrl, result: result });
          result.catch(function () {});
          throw blocked;
        }
        return result;
      });
    });
  }

  function authenticate(challengeBase64) {
    return ask({ kind: "authenticate", challenge: challengeBase64, description: config.messages.login_description || "" });
  }

  function sign(digestBase64, description) {
    return ask({ kind: "sign", digest: digestBase64, description: description || "" });
  }

  window.egovSigner = { status: status, authenticate: authenticate, sign: sign };
})();
