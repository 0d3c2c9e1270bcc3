// Marks the page as scripted before it renders, so GOV.UK Frontend styles its enhanced
// components without a flash. An external file: the Content-Security-Policy allows no inline
// script, which also lets anonymous pages be cached whole.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
