/* Shared by every page: texts from the page's JSON block, the GraphQL client,
   safe element building (text only, never HTML), dates in a given time zone. */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const messages = data.messages;
  const locale = data.lang === "en" ? "en-GB" : "da-DK";

  function t(key, values) {
    let text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  function has(key) {
    return Object.prototype.hasOwnProperty.call(messages, key);
  }

  /* The public endpoint, as any client calls it; the token only when given. */
  async function gql(query, variables, token) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    let response;
    try {
      response = await fetch("/graphql", {
        method: "POST",
        headers: headers,
        credentials: "same-origin",
        body: JSON.stringify({ query: query, variables: variables || {} }),
      });
    } catch (_error) {
      return { data: null, errors: [{ message: t("error.network"), extensions: { code: "NETWORK" } }] };
    }
    let body;
    try {
      body = await response.json();
    } catch (_error) {
      body = { data: null, errors: [{ message: t("error.unexpected"), extensions: { code: "INTERNAL_SERVER_ERROR" } }] };
    }
    return { data: body.data || null, errors: body.errors || [], status: response.status };
  }

  function code(error) {
    return (error && error.extensions && error.extensions.code) || "";
  }

  /* A sentence for the person: our own text per code, the API's words for bad input. */
  function explain(error) {
    const c = code(error);
    if (c === "RATE_LIMITED") {
      return t("error.rateLimited", { seconds: error.extensions.retryAfterSeconds || 60 });
    }
    if (c === "BAD_USER_INPUT") return error.message;
    if (has("error." + c)) return t("error." + c);
    return t("error.unexpected");
  }

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "onclick") node.addEventListener("click", value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children || []) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function show(id, visible) {
    document.getElementById(id).hidden = !visible;
  }

  function status(text, isError) {
    const node = document.getElementById("status");
    node.textContent = text || "";
    node.classList.toggle("error", Boolean(isError));
  }

  function dateTime(iso, timeZone, options) {
    const settings = Object.assign({ timeZone: timeZone || undefined }, options);
    return new Intl.DateTimeFormat(locale, settings).format(new Date(iso));
  }

  function when(iso, timeZone) {
    return dateTime(iso, timeZone, { dateStyle: "full", timeStyle: "short" });
  }

  function day(iso, timeZone) {
    return dateTime(iso, timeZone, { dateStyle: "medium" });
  }

  function dateHeading(iso, timeZone) {
    return dateTime(iso, timeZone, { weekday: "long", day: "numeric", month: "long" });
  }

  function time(iso, timeZone) {
    return dateTime(iso, timeZone, { hour: "2-digit", minute: "2-digit" });
  }

  /* The calendar day of an instant in a zone, as a sortable key. */
  function dayKey(iso, timeZone) {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    }).format(new Date(iso));
    return parts;
  }

  function money(ore) {
    return new Intl.NumberFormat(locale, { style: "currency", currency: "DKK" }).format(ore / 100);
  }

  /* Show a message under a field, or clear it; the field is marked invalid. */
  function fieldError(errorId, inputId, text) {
    const node = document.getElementById(errorId);
    const input = document.getElementById(inputId);
    node.textContent = text || "";
    node.hidden = !text;
    if (input) {
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    return input;
  }

  window.TG = {
    data: data, lang: data.lang, t: t, has: has, gql: gql, code: code, explain: explain,
    el: el, show: show, status: status, when: when, day: day, time: time, dateHeading: dateHeading, dayKey: dayKey,
    money: money, fieldError: fieldError,
  };
})();
