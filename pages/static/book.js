/* The online booking page: profile and services, free slots by day in the
   business's time zone, a hold while the person types, the confirmation.
   Everything comes from POST /graphql; the draft is remembered only by the
   service's own tg_draft cookie (HttpOnly: this script never sees it). */
(function () {
  "use strict";
  const { t, gql, el, show, status, explain, code } = window.TG;
  const slug = document.getElementById("book").dataset.tenant;
  const WEEK = 7 * 24 * 3600 * 1000;
  const FIELDS = ["name", "email", "phone", "registration", "vin", "customerNotes"];
  const state = { tenant: null, service: null, from: null, draft: null };

  const PAGE = `query BookingPage($slug: String!) {
    tenant(slug: $slug) { name description address contactPhone contactEmail timezone
      openingHours { day opens closes }
      services { id name description durationMinutes priceOre } }
    resumeBooking(tenantSlug: $slug) { startsAt endsAt holdExpiresAt holdLive service { id name } }
  }`;
  const SLOTS = `query Slots($slug: String!, $service: ID!, $from: DateTime!, $to: DateTime!) {
    availableSlots(tenantSlug: $slug, serviceId: $service, from: $from, to: $to) { startsAt endsAt remaining }
  }`;
  const START = `mutation Hold($slug: String!, $service: ID!, $startsAt: DateTime!) {
    startBooking(tenantSlug: $slug, serviceId: $service, startsAt: $startsAt) {
      draft { startsAt endsAt holdExpiresAt holdLive service { id name } } }
  }`;
  const COMPLETE = `mutation Complete($input: CompleteBookingInput!) {
    completeBooking(input: $input) { reference startsAt endsAt service { name } tenant { name } }
  }`;

  function zone() {
    return state.tenant.timezone;
  }

  function renderProfile(tenant) {
    document.getElementById("tenant-name").textContent = tenant.name;
    document.title = tenant.name + " · " + t("book.title");
    document.getElementById("tenant-description").textContent = tenant.description;
    document.getElementById("tenant-address").textContent = tenant.address;
    const phone = document.getElementById("tenant-phone");
    phone.replaceChildren(el("a", { href: "tel:" + tenant.contactPhone, text: tenant.contactPhone }));
    const mail = document.getElementById("tenant-email");
    mail.replaceChildren(el("a", { href: "mailto:" + tenant.contactEmail, text: tenant.contactEmail }));
    const hours = document.getElementById("tenant-hours");
    hours.replaceChildren();
    for (const interval of tenant.openingHours) {
      hours.append(el("li", { text: t("day." + interval.day) + " " + interval.opens + "–" + interval.closes }));
    }
    if (!tenant.openingHours.length) hours.append(el("li", { text: t("book.profile.noHours") }));
    show("profile", true);
  }

  function renderServices(tenant) {
    const box = document.getElementById("services");
    box.replaceChildren();
    for (const service of tenant.services) {
      const id = "service-" + service.id.replace(/[^A-Za-z0-9_-]/g, "");
      const input = el("input", { type: "radio", name: "service", id: id, value: service.id });
      input.addEventListener("change", () => chooseService(service));
      const facts = t("book.service.facts", {
        minutes: service.durationMinutes, price: window.TG.money(service.priceOre),
      });
      box.append(el("div", { class: "choice" }, [
        input,
        el("label", { for: id }, [el("strong", { text: service.name }), el("span", { text: facts }),
          el("span", { class: "hint", text: service.description })]),
      ]));
    }
    show("services-section", true);
  }

  function chooseService(service) {
    state.service = service;
    state.from = new Date();
    loadSlots();
  }

  async function loadSlots() {
    const from = state.from;
    const to = new Date(from.getTime() + WEEK);
    document.getElementById("slots-prev").disabled = from.getTime() <= Date.now() + 1000;
    document.getElementById("slots-zone").textContent = t("book.slots.zone", {
      zone: zone(), from: window.TG.day(from.toISOString(), zone()), to: window.TG.day(to.toISOString(), zone()),
    });
    show("slots-section", true);
    const box = document.getElementById("slots");
    box.replaceChildren(el("p", { text: t("common.loading") }));
    const result = await gql(SLOTS, {
      slug: slug, service: state.service.id, from: from.toISOString(), to: to.toISOString(),
    });
    if (result.errors.length) {
      box.replaceChildren(el("p", { class: "error", text: explain(result.errors[0]) }));
      return;
    }
    renderSlots(result.data.availableSlots);
  }

  function renderSlots(slots) {
    const box = document.getElementById("slots");
    box.replaceChildren();
    if (!slots.length) {
      box.append(el("p", { text: t("book.slots.none") }));
      return;
    }
    const days = new Map();
    for (const slot of slots) {
      const key = window.TG.dayKey(slot.startsAt, zone());
      if (!days.has(key)) days.set(key, []);
      days.get(key).push(slot);
    }
    for (const [key, daySlots] of days) {
      const headingId = "day-" + key;
      const heading = el("h3", { id: headingId, text: window.TG.dateHeading(daySlots[0].startsAt, zone()) });
      const list = el("ul", { class: "slots", "aria-labelledby": headingId });
      for (const slot of daySlots) {
        const label = window.TG.time(slot.startsAt, zone());
        const full = slot.remaining < 1;
        const button = el("button", {
          type: "button", class: "slot", "data-starts": slot.startsAt, disabled: full,
          "aria-label": window.TG.when(slot.startsAt, zone()) + (full ? ", " + t("book.slots.full") : ""),
        }, [label, full ? el("span", { class: "full", text: " " + t("book.slots.full") }) : null]);
        button.addEventListener("click", () => hold(slot.startsAt));
        list.append(el("li", {}, [button]));
      }
      box.append(el("section", { class: "day" }, [heading, list]));
    }
  }

  async function hold(startsAt) {
    status(t("book.holding"));
    const result = await gql(START, { slug: slug, service: state.service.id, startsAt: startsAt });
    if (result.errors.length) {
      status(explain(result.errors[0]), true);
      if (code(result.errors[0]) === "CONFLICT") loadSlots();
      return;
    }
    showDetails(result.data.startBooking.draft);
  }

  function showDetails(draft) {
    state.draft = draft;
    status("");
    const holdText = draft.holdLive
      ? t("book.hold.live", { when: window.TG.when(draft.startsAt, zone()), until: window.TG.time(draft.holdExpiresAt, zone()) })
      : t("book.hold.lapsed", { when: window.TG.when(draft.startsAt, zone()) });
    document.getElementById("hold").textContent = (draft.service ? draft.service.name + ": " : "") + holdText;
    show("resume", false);
    show("services-section", false);
    show("slots-section", false);
    show("details-section", true);
    document.getElementById("field-name").focus();
  }

  function clearErrors() {
    for (const name of FIELDS) window.TG.fieldError("error-" + name, "field-" + name, "");
    window.TG.fieldError("error-form", null, "");
  }

  function showErrors(errors) {
    let first = null;
    for (const error of errors) {
      const field = ((error.extensions || {}).field || "").replace(/^input\./, "");
      if (code(error) === "BAD_USER_INPUT" && FIELDS.includes(field)) {
        const text = t("book.error." + field) + " " + t("common.apiSays", { message: error.message });
        const input = window.TG.fieldError("error-" + field, "field-" + field, text);
        first = first || input;
      } else {
        window.TG.fieldError("error-form", null, explain(error));
      }
    }
    (first || document.getElementById("error-form")).focus();
  }

  async function complete(event) {
    event.preventDefault();
    clearErrors();
    const input = { tenantSlug: slug };
    for (const name of FIELDS) {
      const value = document.getElementById("field-" + name).value.trim();
      input[name] = value === "" && !["name", "email", "phone"].includes(name) ? null : value;
    }
    const button = document.getElementById("details-submit");
    button.disabled = true;
    const result = await gql(COMPLETE, { input: input });
    button.disabled = false;
    if (result.errors.length) {
      showErrors(result.errors);
      return;
    }
    const done = result.data.completeBooking;
    document.getElementById("reference").textContent = done.reference;
    document.getElementById("done-text").textContent = t("book.done.text", {
      service: done.service ? done.service.name : "", business: done.tenant ? done.tenant.name : "",
      when: window.TG.when(done.startsAt, zone()),
    });
    show("details-section", false);
    show("done-section", true);
    document.getElementById("done-section").focus();
  }

  function offerResume(draft) {
    document.getElementById("resume-text").textContent = t(
      draft.holdLive ? "book.resume.live" : "book.resume.lapsed",
      { service: draft.service ? draft.service.name : "", when: window.TG.when(draft.startsAt, zone()) },
    );
    show("resume", true);
    document.getElementById("resume-continue").addEventListener("click", () => {
      state.service = state.tenant.services.find((s) => draft.service && s.id === draft.service.id) || null;
      const radio = state.service && document.querySelector(`#services input[value="${CSS.escape(state.service.id)}"]`);
      if (radio) radio.checked = true;
      showDetails(draft);
    });
    document.getElementById("resume-other").addEventListener("click", () => {
      show("resume", false);
      show("services-section", true);
      document.querySelector("#services input") && document.querySelector("#services input").focus();
    });
  }

  async function start() {
    const result = await gql(PAGE, { slug: slug });
    const tenant = result.data && result.data.tenant;
    if (!tenant) {
      status(result.errors.length && code(result.errors[0]) !== "NOT_FOUND" ? explain(result.errors[0]) : t("book.notFound"), true);
      return;
    }
    state.tenant = tenant;
    status("");
    renderProfile(tenant);
    renderServices(tenant);
    const draft = result.data.resumeBooking;
    if (draft) {
      show("services-section", false);
      offerResume(draft);
    }
  }

  document.getElementById("slots-prev").addEventListener("click", () => {
    state.from = new Date(Math.max(Date.now(), state.from.getTime() - WEEK));
    loadSlots();
  });
  document.getElementById("slots-next").addEventListener("click", () => {
    state.from = new Date(state.from.getTime() + WEEK);
    loadSlots();
  });
  document.getElementById("details").addEventListener("submit", complete);
  document.getElementById("details-back").addEventListener("click", () => {
    show("details-section", false);
    show("services-section", true);
    if (state.service) {
      state.from = state.from || new Date();
      loadSlots();
    }
  });
  start();
})();
