// multifresque widget: the next fresque sessions of a search, for any website.
//
//   <script src="https://HOST/widget.js" async></script>
//   <multifresque-widget near="Lyon" radius-km="25" hl="fr" limit="5"></multifresque-widget>
//
// or one tag, whose data-* attributes become the widget's options:
//
//   <script src="https://HOST/widget.js" data-near="Lyon" data-radius-km="25"></script>
//
// Options: near (or lat and lon), radius-km, workshop (codes, comma-separated), audience,
// attendance, include-online, lang (session languages), q, hl (interface language: fr, en,
// de, es), limit (1 to 20), accent, background and text (colours as #rgb or #rrggbb), and
// server (this service's address, when the script is copied elsewhere).
//
// The widget draws into a shadow root, so the host page's CSS cannot restyle it, and it
// writes feed text only with textContent.
(function () {
  "use strict";

  if (!window.customElements || window.customElements.get("multifresque-widget")) {
    return;
  }

  var script = document.currentScript;
  var scriptServer = script && script.src ? script.src.replace(/\/widget\.js(\?.*)?$/, "") : "";

  var TEXTS = {
    fr: {
      book: "Réserver", full: "Complet", online: "En ligne", more: "Voir toutes les sessions",
      none: "Aucune session à venir pour le moment.", failed: "Les sessions ne peuvent pas être chargées.",
      loading: "Chargement des sessions…", seats: function (n) { return n === 1 ? "1 place restante" : n + " places restantes"; },
      distance: function (km) { return "à " + km.toLocaleString("fr") + " km"; }, label: "Prochaines fresques",
      postponed: "Reporté",
    },
    en: {
      book: "Book", full: "Sold out", online: "Online", more: "See all sessions",
      none: "No upcoming session for now.", failed: "The sessions could not be loaded.",
      loading: "Loading sessions…", seats: function (n) { return n === 1 ? "1 seat left" : n + " seats left"; },
      distance: function (km) { return km.toLocaleString("en") + " km away"; }, label: "Next fresque workshops",
      postponed: "Postponed",
    },
    de: {
      book: "Buchen", full: "Ausgebucht", online: "Online", more: "Alle Termine ansehen",
      none: "Derzeit keine kommenden Termine.", failed: "Die Termine konnten nicht geladen werden.",
      loading: "Termine werden geladen…", seats: function (n) { return n === 1 ? "1 Platz frei" : n + " Plätze frei"; },
      distance: function (km) { return km.toLocaleString("de") + " km entfernt"; }, label: "Nächste Fresque-Workshops",
      postponed: "Verschoben",
    },
    es: {
      book: "Reservar", full: "Completo", online: "En línea", more: "Ver todas las sesiones",
      none: "No hay sesiones próximas por ahora.", failed: "No se pudieron cargar las sesiones.",
      loading: "Cargando sesiones…", seats: function (n) { return n === 1 ? "Queda 1 plaza" : "Quedan " + n + " plazas"; },
      distance: function (km) { return "a " + km.toLocaleString("es") + " km"; }, label: "Próximas fresques",
      postponed: "Aplazado",
    },
  };

  // Attribute name, then the API parameter it sets.
  var SEARCH_OPTIONS = [
    ["near", "near"], ["lat", "lat"], ["lon", "lon"], ["radius-km", "radius_km"],
    ["workshop", "workshop"], ["audience", "audience"], ["attendance", "attendance"],
    ["include-online", "include_online"], ["lang", "lang"], ["q", "q"],
  ];
  var COLOURS = [["accent", "#0b6e4f"], ["background", "#ffffff"], ["text", "#1b1f1d"]];
  var ATTRIBUTES = SEARCH_OPTIONS.map(function (o) { return o[0]; })
    .concat(["hl", "limit", "server"], COLOURS.map(function (c) { return c[0]; }));

  var STYLE = [
    ":host { all: initial !important; display: block !important; contain: content; }",
    ":host([hidden]) { display: none !important; }",
    ".root { font: 15px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif;",
    "  color: var(--c-text); background: var(--c-background); padding: 8px 12px; border-radius: 8px;",
    "  text-align: left; letter-spacing: normal; word-spacing: normal; text-transform: none; }",
    "h2 { font-size: 1.05em; margin: 0 0 4px; color: inherit; }",
    "ul { list-style: none; margin: 0; padding: 0; }",
    "li { padding: 8px 0; border-bottom: 1px solid rgba(127,127,127,.35); display: block; }",
    "p { margin: 2px 0; }",
    ".when { font-size: .85em; opacity: .85; }",
    ".title { font-weight: 700; overflow-wrap: anywhere; }",
    ".title a { color: inherit; }",
    ".meta { font-size: .9em; overflow-wrap: anywhere; }",
    ".actions { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }",
    ".availability { font-weight: 600; font-size: .9em; }",
    "a { color: var(--c-accent); }",
    "a:focus-visible { outline: 3px solid var(--c-accent); outline-offset: 2px; }",
    ".book { display: inline-block; padding: 2px 10px; border-radius: 6px; background: var(--c-accent);",
    "  color: #fff; font-weight: 600; text-decoration: none; }",
    ".more { margin-top: 8px; font-weight: 600; }",
    ".hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }",
  ].join("\n");

  var workshopNames = {}; // server address -> Promise of {code: names}

  function familyNames(server) {
    if (!workshopNames[server]) {
      workshopNames[server] = fetch(server + "/api/v1/workshops")
        .then(function (r) { return r.ok ? r.json() : { workshops: [] }; })
        .then(function (body) {
          var names = {};
          body.workshops.forEach(function (w) { names[w.code] = w; });
          return names;
        })
        .catch(function () { return {}; });
    }
    return workshopNames[server];
  }

  function isColour(value) {
    return /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(value || "");
  }

  function isWebLink(value) {
    try {
      var protocol = new URL(value).protocol;
      return protocol === "https:" || protocol === "http:";
    } catch (error) {
      return false;
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function sessionTime(event, hl) {
    var options = {
      weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
      timeZone: event.time_zone, timeZoneName: "short",
    };
    try {
      return new Intl.DateTimeFormat(hl, options).format(new Date(event.start));
    } catch (error) {
      delete options.timeZone; // an unknown zone name: show the browser's zone instead
      return new Intl.DateTimeFormat(hl, options).format(new Date(event.start));
    }
  }

  function place(event) {
    var location = event.location || {};
    var city = location.city || location.postal_code || "";
    return [location.name, city].filter(Boolean).join(", ");
  }

  class MultifresqueWidget extends HTMLElement {
    static get observedAttributes() {
      return ATTRIBUTES;
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      var sheetSupported = "adoptedStyleSheets" in Document.prototype && "replaceSync" in CSSStyleSheet.prototype;
      if (sheetSupported) {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(STYLE);
        this.shadowRoot.adoptedStyleSheets = [sheet];
      } else {
        this.shadowRoot.appendChild(element("style", "", STYLE));
      }
      this.root = element("section", "root");
      this.shadowRoot.appendChild(this.root);
      this.request = 0;
    }

    connectedCallback() {
      this.render();
    }

    attributeChangedCallback() {
      if (this.isConnected) {
        this.render();
      }
    }

    language() {
      var hl = (this.getAttribute("hl") || document.documentElement.lang || "fr").slice(0, 2).toLowerCase();
      return TEXTS[hl] ? hl : "fr";
    }

    server() {
      return (this.getAttribute("server") || scriptServer).replace(/\/+$/, "");
    }

    searchParams() {
      var params = new URLSearchParams();
      var self = this;
      SEARCH_OPTIONS.forEach(function (option) {
        var value = self.getAttribute(option[0]);
        if (value !== null && value.trim() !== "") {
          params.set(option[1], value.trim());
        }
      });
      return params;
    }

    render() {
      var hl = this.language();
      var texts = TEXTS[hl];
      var self = this;
      var server = this.server();
      var limit = Math.min(Math.max(parseInt(this.getAttribute("limit") || "5", 10) || 5, 1), 20);

      COLOURS.forEach(function (colour) {
        var value = self.getAttribute(colour[0]);
        self.root.style.setProperty("--c-" + colour[0], isColour(value) ? value : colour[1]);
      });
      this.root.setAttribute("lang", hl);
      this.root.setAttribute("aria-busy", "true");
      this.root.replaceChildren(element("p", "", texts.loading));

      var params = this.searchParams();
      var page = new URLSearchParams(params);
      page.set("hl", hl);
      params.set("limit", String(limit));
      var request = ++this.request;

      Promise.all([
        fetch(server + "/api/v1/events?" + params.toString()).then(function (r) {
          if (!r.ok) {
            throw new Error("HTTP " + r.status);
          }
          return r.json();
        }),
        familyNames(server),
      ]).then(function (answers) {
        if (request === self.request) {
          self.show(answers[0], answers[1], hl, server, page);
        }
      }).catch(function () {
        if (request === self.request) {
          self.root.replaceChildren(element("p", "", texts.failed));
          self.root.removeAttribute("aria-busy");
        }
      });
    }

    show(body, names, hl, server, page) {
      var texts = TEXTS[hl];
      var heading = element("h2", "", texts.label);
      var nodes = [heading];
      if (body.events.length === 0) {
        nodes.push(element("p", "", texts.none));
      } else {
        var list = element("ul");
        body.events.forEach(function (event) {
          list.appendChild(item(event, names, hl, server));
        });
        nodes.push(list);
      }
      var more = element("p", "more");
      var link = element("a", "", texts.more);
      link.href = server + "/?" + page.toString();
      link.target = "_blank";
      link.rel = "noopener";
      more.appendChild(link);
      nodes.push(more);
      this.root.replaceChildren.apply(this.root, nodes);
      this.root.removeAttribute("aria-busy");
    }
  }

  function item(event, names, hl, server) {
    var texts = TEXTS[hl];
    var li = element("li");
    li.appendChild(element("p", "when", sessionTime(event, hl)));

    var title = element("p", "title");
    var link = element("a", "", event.title);
    link.href = server + "/evenements/" + encodeURIComponent(event.id);
    link.target = "_blank";
    link.rel = "noopener";
    title.appendChild(link);
    li.appendChild(title);

    var family = names[event.workshop];
    var familyName = family ? (hl === "fr" ? family.name_fr : family.name_en) : event.workshop;
    var where = event.attendance === "online" ? texts.online : place(event);
    var meta = [familyName, where].filter(Boolean);
    if (typeof event.distance_km === "number") {
      meta.push(texts.distance(event.distance_km));
    }
    li.appendChild(element("p", "meta", meta.join(" · ")));

    var actions = element("p", "actions");
    var soldOut = event.status === "sold_out" || event.seats_left === 0;
    if (soldOut) {
      actions.appendChild(element("span", "availability", texts.full));
    } else if (event.status === "postponed") {
      actions.appendChild(element("span", "availability", texts.postponed));
    } else if (typeof event.seats_left === "number") {
      actions.appendChild(element("span", "availability", texts.seats(event.seats_left)));
    }
    if (!soldOut && isWebLink(event.tickets_url)) {
      var book = element("a", "book", texts.book);
      book.appendChild(element("span", "hidden", " : " + event.title));
      book.href = event.tickets_url;
      book.target = "_blank";
      book.rel = "noopener noreferrer";
      actions.appendChild(book);
    }
    li.appendChild(actions);
    return li;
  }

  window.customElements.define("multifresque-widget", MultifresqueWidget);

  // The one-tag form: a script with data-* options gets a widget right after it.
  if (script && Object.keys(script.dataset).length > 0 && script.parentNode) {
    var widget = document.createElement("multifresque-widget");
    Object.keys(script.dataset).forEach(function (key) {
      var name = key.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); });
      widget.setAttribute(name, script.dataset[key]);
    });
    script.parentNode.insertBefore(widget, script.nextSibling);
  }
})();
