/* The portal's views of the API's answers: what each business holds (with the
   Art. 15(1) facts), the requests with their deadlines, the erasure preview
   and receipt. Only text nodes are written, never HTML. */
(function () {
  "use strict";
  const { t, has, el } = window.TG;

  /* Our own translation of an API term when the catalogue has one, else the API's text. */
  function term(prefix, value) {
    return has(prefix + value) ? t(prefix + value) : String(value);
  }

  function dl(pairs) {
    const list = el("dl", { class: "facts" });
    for (const [label, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("dt", { text: label }), el("dd", { text: value }));
    }
    return list;
  }

  function table(caption, headers, rows) {
    if (!rows.length) return el("p", { text: caption + ": " + t("privacy.none") });
    const head = el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })));
    const body = rows.map((cells) => el("tr", {}, cells.map((c) => el("td", { text: c === null ? "" : String(c) }))));
    return el("div", { class: "table-wrap" }, [
      el("table", {}, [el("caption", { text: caption }), el("thead", {}, [head]), el("tbody", {}, body)]),
    ]);
  }

  function day(iso) {
    return iso ? window.TG.day(iso) : "";
  }

  function customerFacts(customer) {
    const address = [customer.street, [customer.postalCode, customer.city].filter(Boolean).join(" ")]
      .filter(Boolean).join(", ");
    const objections = (customer.objections || []).map((p) => term("objection.", p)).join(", ");
    return dl([
      [t("privacy.field.name"), customer.name],
      [t("privacy.field.email"), customer.email],
      [t("privacy.field.phone"), customer.phone],
      [t("privacy.field.address"), address],
      [t("privacy.field.createdAt"), day(customer.createdAt)],
      [t("privacy.field.restricted"), customer.restrictedAt ? day(customer.restrictedAt) + " – " + (customer.restrictionReason || "") : ""],
      [t("privacy.field.objections"), objections],
    ]);
  }

  function recordTables(customer) {
    return [
      table(t("privacy.vehicles"), [t("privacy.col.registration"), t("privacy.col.vin"), t("privacy.col.vehicle")],
        (customer.vehicles || []).map((v) => [v.registration, v.vin, [v.make, v.model].filter(Boolean).join(" ")])),
      table(t("privacy.bookings"), [t("privacy.col.reference"), t("privacy.col.when"), t("privacy.col.service"), t("privacy.col.status")],
        (customer.bookings || []).map((b) => [b.reference, b.startsAt ? window.TG.when(b.startsAt) : "",
          b.service ? b.service.name : "", term("bookingStatus.", b.status)])),
      table(t("privacy.documents"), [t("privacy.col.kind"), t("privacy.col.title"), t("privacy.col.issued"), t("privacy.col.retainUntil")],
        (customer.documents || []).map((d) => [term("documentKind.", d.kind), d.title, day(d.issuedAt), d.retainUntil || ""])),
    ];
  }

  function purposeText(p) {
    const key = "purpose." + p.purpose;
    return [
      term("purpose.", p.purpose),
      has(key + ".description") ? t(key + ".description") : p.description,
      has(key + ".legalBasis") ? t(key + ".legalBasis") : p.legalBasis,
      has(key + ".retention") ? t(key + ".retention") : p.retention,
    ];
  }

  function factsTable(facts) {
    const rows = [];
    for (const f of facts) {
      const categories = f.categories.map((c) => term("category.", c)).join(", ");
      for (const p of f.purposes) rows.push([term("entity.", f.entity), categories, ...purposeText(p)]);
    }
    return el("details", { class: "facts" }, [
      el("summary", { text: t("privacy.facts") }),
      table(t("privacy.facts"), [t("privacy.col.record"), t("privacy.col.categories"), t("privacy.col.purpose"),
        t("privacy.col.description"), t("privacy.col.legalBasis"), t("privacy.col.retention")], rows),
    ]);
  }

  function recipientsTable(recipients) {
    return table(t("privacy.recipients"), [t("privacy.col.recipient"), t("privacy.col.fields"), t("privacy.col.firstRead"), t("privacy.col.lastRead")],
      recipients.map((r) => [r.name + " (" + term("role.", r.role) + ")", r.fields.join(", "), day(r.firstReadAt), day(r.lastReadAt)]));
  }

  function source(controller) {
    const via = controller.customer.createdVia;
    return via && has("source." + via) ? t("source." + via) : controller.source;
  }

  function renderControllers(myData) {
    const box = document.getElementById("controllers");
    box.replaceChildren();
    document.getElementById("data-summary").textContent = myData.controllers.length
      ? t("privacy.data.summary", { count: myData.controllers.length, when: window.TG.when(myData.generatedAt) })
      : t("privacy.data.nothing");
    for (const c of myData.controllers) {
      const name = c.tenant ? c.tenant.name : "";
      const headingId = "controller-" + (c.tenant ? c.tenant.slug : "unknown");
      box.append(el("article", { class: "controller", "aria-labelledby": headingId }, [
        el("h3", { id: headingId, text: name }),
        c.tenant ? el("p", { class: "hint", text: t("privacy.controller", { contact: c.tenant.contactEmail }) }) : null,
        dl([[t("privacy.source"), source(c)]]),
        customerFacts(c.customer),
        ...recordTables(c.customer),
        recipientsTable(c.recipients),
        factsTable(c.facts),
      ]));
    }
    const rights = document.getElementById("rights");
    rights.replaceChildren(...myData.rights.map((r, i) => el("li", { text: has("right." + i) ? t("right." + i) : r })));
  }

  function renderRequests(myData) {
    const rows = [];
    for (const c of myData.controllers) {
      for (const r of c.privacyRequests) {
        rows.push([c.tenant ? c.tenant.name : "", term("requestType.", r.type), term("requestStatus.", r.status) + (r.overdue ? " – " + t("privacy.overdue") : ""),
          day(r.receivedAt), day(r.dueAt), r.resolvedAt ? day(r.resolvedAt) : "", r.rejectionReason || r.extensionReason || ""]);
      }
    }
    const box = document.getElementById("requests");
    box.replaceChildren(table(t("privacy.requests.heading"), [t("privacy.col.business"), t("privacy.col.type"), t("privacy.col.status"),
      t("privacy.col.received"), t("privacy.col.due"), t("privacy.col.resolved"), t("privacy.col.note")], rows));
  }

  /* What erasure will do, from the records the person can see and the rules the
     API publishes: the customer, vehicles and notes go; bookings stay without
     anything that links them to the person; invoices stay until their date. */
  function erasurePreview(controllers) {
    const rows = [];
    for (const c of controllers) {
      const business = c.tenant ? c.tenant.name : "";
      const customer = c.customer;
      const bookkeeping = c.facts.flatMap((f) => f.purposes).find((p) => p.purpose === "bookkeeping");
      const basis = bookkeeping ? purposeText(bookkeeping)[2] : "";
      rows.push([business, t("entity.Customer"), 1, t("outcome.DELETED"), ""]);
      const vehicles = (customer.vehicles || []).length;
      if (vehicles) rows.push([business, t("entity.Vehicle"), vehicles, t("outcome.DELETED"), ""]);
      const bookings = (customer.bookings || []).length;
      if (bookings) rows.push([business, t("entity.Booking"), bookings, t("outcome.ANONYMISED"), t("privacy.erasure.bookingKept")]);
      const kept = (customer.documents || []).filter((d) => d.retainUntil);
      const gone = (customer.documents || []).length - kept.length;
      if (gone) rows.push([business, t("entity.Document"), gone, t("outcome.DELETED"), ""]);
      for (const d of kept) {
        rows.push([business, term("documentKind.", d.kind) + " " + d.title, 1, t("outcome.RETAINED"),
          t("privacy.erasure.retainedUntil", { date: d.retainUntil, basis: basis })]);
      }
    }
    return table(t("privacy.erasure.previewCaption"), [t("privacy.col.business"), t("privacy.col.record"), t("privacy.col.count"),
      t("privacy.col.outcome"), t("privacy.col.why")], rows);
  }

  function erasureReceipt(requests) {
    const rows = [];
    const counts = [];
    for (const r of requests) {
      rows.push([r.tenant ? r.tenant.name : "", term("requestStatus.", r.status), day(r.receivedAt), day(r.dueAt)]);
      for (const c of (r.outcome && r.outcome.counts) || []) {
        counts.push([r.tenant ? r.tenant.name : "", term("entity.", c.entity), c.count, term("outcome.", c.outcome), c.legalBasis || ""]);
      }
    }
    const parts = [el("h3", { text: t("privacy.erasure.receiptHeading") }),
      el("p", { text: t("privacy.erasure.receiptText") }),
      table(t("privacy.erasure.receiptCaption"), [t("privacy.col.business"), t("privacy.col.status"), t("privacy.col.received"), t("privacy.col.due")], rows)];
    if (counts.length) {
      parts.push(table(t("privacy.erasure.doneCaption"), [t("privacy.col.business"), t("privacy.col.record"), t("privacy.col.count"),
        t("privacy.col.outcome"), t("privacy.col.why")], counts));
    }
    return parts;
  }

  window.TGPortal = {
    renderControllers: renderControllers, renderRequests: renderRequests,
    erasurePreview: erasurePreview, erasureReceipt: erasureReceipt, term: term,
  };
})();
