/* The data-subject portal: sign in with an emailed one-time code, then every
   right through the public API with the subject's own bearer token. The token
   is kept in sessionStorage (this tab only, gone when it closes), never in a
   cookie: the service sets exactly one cookie, the booking draft. */
(function () {
  "use strict";
  const { t, gql, el, show, status, explain, code, fieldError } = window.TG;
  const portal = window.TGPortal;
  const STORE = "tg_subject_token";
  const RECT_FIELDS = ["name", "email", "phone", "street", "postalCode", "city"];
  const state = { email: "", myData: null };

  const MY_DATA = `query MyData { myData { email generatedAt rights controllers {
    tenant { slug name contactEmail } source recipients { name role fields firstReadAt lastReadAt }
    facts { entity categories purposes { purpose description legalBasis retention } }
    privacyRequests { id type status receivedAt dueAt resolvedAt overdue rejectionReason extensionReason }
    customer { name email phone street postalCode city createdVia restrictedAt restrictionReason objections createdAt
      vehicles { registration vin make model }
      bookings { reference status startsAt service { name } }
      documents { kind title issuedAt retainUntil } } } } }`;
  const REQUEST_LOGIN = "mutation Login($email: String!) { requestSubjectLogin(email: $email) { accepted } }";
  const VERIFY = "mutation Verify($email: String!, $code: String!) { verifySubjectLogin(email: $email, code: $code) { token expiresAt } }";
  const EXPORT = "mutation Export($format: ExportFormat!) { exportMyData(format: $format) { filename contentType content } }";
  const RECTIFY = "mutation Rectify($input: RectifyMyDataInput!) { rectifyMyData(input: $input) { changedFields pendingConfirmation } }";
  const CONFIRM = "mutation Confirm($code: String!) { confirmRectification(code: $code) { changedFields } }";
  const REQUEST_FIELDS = "requests { id type status receivedAt dueAt outcome tenant { name } }";
  const ERASE = `mutation Erase($slug: String) { requestErasure(tenantSlug: $slug) { ${REQUEST_FIELDS} } }`;
  const RESTRICT = `mutation Restrict($reason: String!, $slug: String) { requestRestriction(reason: $reason, tenantSlug: $slug) { ${REQUEST_FIELDS} } }`;
  const OBJECT = `mutation Object($purpose: ObjectionPurpose!, $slug: String) { objectToProcessing(purpose: $purpose, tenantSlug: $slug) { ${REQUEST_FIELDS} } }`;
  const WITHDRAW = `mutation Withdraw($purpose: ObjectionPurpose!, $slug: String) { withdrawObjection(purpose: $purpose, tenantSlug: $slug) { ${REQUEST_FIELDS} } }`;

  function session() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
      return saved && new Date(saved.expiresAt) > new Date() ? saved : null;
    } catch (_error) {
      return null;
    }
  }

  function signOut(message) {
    sessionStorage.removeItem(STORE);
    state.myData = null;
    show("account", false);
    show("login", true);
    show("login-code-form", false);
    show("login-email-form", true);
    status(message || "", false);
    document.getElementById("login-email").focus();
  }

  /* A call with the subject's token; an expired or refused token signs out. */
  async function call(query, variables) {
    const saved = session();
    if (!saved) {
      signOut(t("privacy.expired"));
      return null;
    }
    const result = await gql(query, variables, saved.token);
    if (result.errors.some((e) => code(e) === "UNAUTHENTICATED")) {
      signOut(t("privacy.expired"));
      return null;
    }
    return result;
  }

  async function loadData() {
    const result = await call(MY_DATA);
    if (!result) return;
    if (result.errors.length && !result.data) {
      status(explain(result.errors[0]), true);
      return;
    }
    state.myData = result.data.myData;
    document.getElementById("who").textContent = state.myData.email;
    portal.renderControllers(state.myData);
    portal.renderRequests(state.myData);
    for (const select of document.querySelectorAll(".business-select")) {
      const chosen = select.value;
      select.replaceChildren(select.options[0]);
      for (const c of state.myData.controllers) {
        if (c.tenant) select.append(el("option", { value: c.tenant.slug, text: c.tenant.name }));
      }
      select.value = chosen;
    }
    show("login", false);
    show("account", true);
  }

  async function requestCode(event) {
    event.preventDefault();
    const email = document.getElementById("login-email").value.trim();
    fieldError("error-login-email", "login-email", "");
    if (!email) {
      fieldError("error-login-email", "login-email", t("privacy.login.emailMissing")).focus();
      return;
    }
    const result = await gql(REQUEST_LOGIN, { email: email });
    if (result.errors.length) {
      fieldError("error-login-email", "login-email", explain(result.errors[0])).focus();
      return;
    }
    state.email = email;
    document.getElementById("login-sent").textContent = t("privacy.login.sent", { email: email });
    show("login-email-form", false);
    show("login-code-form", true);
    document.getElementById("login-code").focus();
  }

  async function verify(event) {
    event.preventDefault();
    fieldError("error-login-code", "login-code", "");
    const result = await gql(VERIFY, { email: state.email, code: document.getElementById("login-code").value.trim() });
    if (result.errors.length) {
      const error = result.errors[0];
      const text = code(error) === "UNAUTHENTICATED" || code(error) === "BAD_USER_INPUT" ? t("privacy.login.wrongCode") : explain(error);
      fieldError("error-login-code", "login-code", text).focus();
      return;
    }
    sessionStorage.setItem(STORE, JSON.stringify(result.data.verifySubjectLogin));
    document.getElementById("login-code").value = "";
    status("");
    await loadData();
    document.getElementById("data-heading").focus();
  }

  async function download(format) {
    const line = document.getElementById("export-status");
    line.textContent = t("common.loading");
    const result = await call(EXPORT, { format: format });
    if (!result) return;
    if (result.errors.length) {
      line.textContent = explain(result.errors[0]);
      return;
    }
    const file = result.data.exportMyData;
    const url = URL.createObjectURL(new Blob([file.content], { type: file.contentType }));
    const link = el("a", { href: url, download: file.filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    line.textContent = t("privacy.export.done", { filename: file.filename });
    loadData();
  }

  function businessOf(selectId) {
    return document.getElementById(selectId).value || null;
  }

  async function rectify(event) {
    event.preventDefault();
    const input = {};
    for (const name of RECT_FIELDS) {
      fieldError("error-rect-" + name, "rect-" + name, "");
      const value = document.getElementById("rect-" + name).value.trim();
      if (value) input[name] = value;
    }
    fieldError("error-rect-form", null, "");
    if (!Object.keys(input).length) {
      fieldError("error-rect-form", null, t("privacy.rectify.nothing")).focus();
      return;
    }
    const slug = businessOf("rectify-business");
    if (slug) input.tenantSlug = slug;
    const result = await call(RECTIFY, { input: input });
    if (!result) return;
    if (result.errors.length) {
      let first = null;
      for (const error of result.errors) {
        const field = ((error.extensions || {}).field || "").replace(/^input\./, "");
        if (RECT_FIELDS.includes(field)) {
          first = first || fieldError("error-rect-" + field, "rect-" + field, t("common.apiSays", { message: error.message }));
        } else {
          first = first || fieldError("error-rect-form", null, explain(error));
        }
      }
      if (first) first.focus();
      else document.getElementById("error-rect-form").focus();
      return;
    }
    const payload = result.data.rectifyMyData;
    for (const name of RECT_FIELDS) document.getElementById("rect-" + name).value = "";
    const changed = payload.changedFields.map((f) => t("privacy.field." + f)).join(", ");
    document.getElementById("rectify-result").textContent = changed ? t("privacy.rectify.done", { fields: changed }) : "";
    if (payload.pendingConfirmation.length) {
      const pending = payload.pendingConfirmation.map((f) => t("privacy.field." + f)).join(", ");
      document.getElementById("confirm-text").textContent = t("privacy.rectify.pending", { fields: pending });
      show("confirm-form", true);
      document.getElementById("confirm-code").focus();
    }
    loadData();
  }

  async function confirmChange(event) {
    event.preventDefault();
    fieldError("error-confirm-code", "confirm-code", "");
    const result = await call(CONFIRM, { code: document.getElementById("confirm-code").value.trim() });
    if (!result) return;
    if (result.errors.length) {
      fieldError("error-confirm-code", "confirm-code", explain(result.errors[0])).focus();
      return;
    }
    const changed = result.data.confirmRectification.changedFields;
    show("confirm-form", false);
    document.getElementById("confirm-code").value = "";
    if (changed.includes("email")) {
      signOut(t("privacy.rectify.emailChanged"));
      return;
    }
    document.getElementById("rectify-result").textContent = t("privacy.rectify.done", {
      fields: changed.map((f) => t("privacy.field." + f)).join(", "),
    });
    loadData();
  }

  function selectedControllers(selectId) {
    const slug = businessOf(selectId);
    return state.myData.controllers.filter((c) => !slug || (c.tenant && c.tenant.slug === slug));
  }

  function previewErasure() {
    const box = document.getElementById("erasure-preview");
    box.replaceChildren(el("p", { text: t("privacy.erasure.previewText") }), portal.erasurePreview(selectedControllers("erasure-business")));
    box.hidden = false;
    show("erasure-form", true);
    show("erasure-receipt", false);
    document.getElementById("erasure-understood").focus();
  }

  async function erase(event) {
    event.preventDefault();
    fieldError("error-erasure", "erasure-understood", "");
    if (!document.getElementById("erasure-understood").checked) {
      fieldError("error-erasure", "erasure-understood", t("privacy.erasure.confirmFirst"));
      document.getElementById("erasure-understood").focus();
      return;
    }
    const result = await call(ERASE, { slug: businessOf("erasure-business") });
    if (!result) return;
    if (result.errors.length) {
      fieldError("error-erasure", "erasure-understood", explain(result.errors[0]));
      document.getElementById("error-erasure").focus();
      return;
    }
    const receipt = document.getElementById("erasure-receipt");
    receipt.replaceChildren(...portal.erasureReceipt(result.data.requestErasure.requests));
    receipt.hidden = false;
    show("erasure-form", false);
    show("erasure-preview", false);
    document.getElementById("erasure-understood").checked = false;
    receipt.focus();
    await loadData();
  }

  function requestsDone(requests) {
    const names = requests.map((r) => (r.tenant ? r.tenant.name : "") + ": " + portal.term("requestStatus.", r.status)
      + ", " + t("privacy.due", { date: window.TG.day(r.dueAt) }));
    document.getElementById("restrict-result").textContent = t("privacy.requests.sent") + " " + names.join("; ");
    loadData();
  }

  async function restrict(event) {
    event.preventDefault();
    const reason = document.getElementById("restrict-reason").value.trim();
    fieldError("error-restrict-reason", "restrict-reason", "");
    if (!reason) {
      fieldError("error-restrict-reason", "restrict-reason", t("privacy.restrict.reasonMissing")).focus();
      return;
    }
    const result = await call(RESTRICT, { reason: reason, slug: businessOf("restrict-business") });
    if (!result) return;
    if (result.errors.length) {
      fieldError("error-restrict-reason", "restrict-reason", explain(result.errors[0])).focus();
      return;
    }
    document.getElementById("restrict-reason").value = "";
    requestsDone(result.data.requestRestriction.requests);
  }

  async function object(withdraw) {
    const purpose = document.querySelector("input[name=purpose]:checked").value;
    const result = await call(withdraw ? WITHDRAW : OBJECT, { purpose: purpose, slug: businessOf("object-business") });
    if (!result) return;
    if (result.errors.length) {
      document.getElementById("restrict-result").textContent = explain(result.errors[0]);
      return;
    }
    requestsDone(result.data[withdraw ? "withdrawObjection" : "objectToProcessing"].requests);
  }

  document.getElementById("login-email-form").addEventListener("submit", requestCode);
  document.getElementById("login-code-form").addEventListener("submit", verify);
  document.getElementById("login-restart").addEventListener("click", () => signOut(""));
  document.getElementById("logout").addEventListener("click", () => signOut(t("privacy.loggedOut")));
  document.getElementById("export-json").addEventListener("click", () => download("JSON"));
  document.getElementById("export-html").addEventListener("click", () => download("HTML"));
  document.getElementById("rectify-form").addEventListener("submit", rectify);
  document.getElementById("confirm-form").addEventListener("submit", confirmChange);
  document.getElementById("erasure-preview-button").addEventListener("click", previewErasure);
  document.getElementById("erasure-form").addEventListener("submit", erase);
  document.getElementById("restrict-form").addEventListener("submit", restrict);
  document.getElementById("object-form").addEventListener("submit", (event) => {
    event.preventDefault();
    object(false);
  });
  document.getElementById("object-withdraw").addEventListener("click", () => object(true));
  if (session()) loadData();
})();
