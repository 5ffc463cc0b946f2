// multifresque search page enhancements. The page works without this file: it adds place
// suggestions, updates the results without reloading, and draws the map with Leaflet.
// Text from feeds is only ever set with textContent or comes inside server-escaped HTML.
(function () {
  "use strict";

  var form = document.getElementById("search-form");
  if (!form || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var liveStatus = document.getElementById("live-status");
  var wideScreen = window.matchMedia("(min-width: 60em)");
  var mapWanted = null; // null until the participant opens or closes the map
  var leafletLoading = null;
  var currentMap = null;
  var pending = null;

  // ---- Place suggestions ------------------------------------------------------------

  var near = document.getElementById("near");
  var suggestions = document.getElementById("place-suggestions");
  var suggestTimer = 0;

  function placeValue(place, typed) {
    if (/^\d+$/.test(typed) && place.postal_code) {
      return place.postal_code;
    }
    return place.name + ", " + (place.admin || place.country);
  }

  function suggest(typed) {
    fetch("/api/v1/places?limit=8&q=" + encodeURIComponent(typed))
      .then(function (response) { return response.ok ? response.json() : { places: [] }; })
      .then(function (body) {
        if (near.value.trim() !== typed) {
          return; // the participant kept typing; a newer request is on its way
        }
        var options = body.places.map(function (place) {
          var option = document.createElement("option");
          option.value = placeValue(place, typed);
          option.label = place.postal_code ? place.name + " (" + place.postal_code + ")" : place.name + " (" + place.country + ")";
          return option;
        });
        suggestions.replaceChildren.apply(suggestions, options);
      })
      .catch(function () { /* suggestions are optional */ });
  }

  if (near && suggestions) {
    near.addEventListener("input", function () {
      window.clearTimeout(suggestTimer);
      var typed = near.value.trim();
      if (typed.length < 2) {
        return;
      }
      suggestTimer = window.setTimeout(function () { suggest(typed); }, 150);
    });
  }

  // ---- Live update ------------------------------------------------------------------

  function formQuery() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (String(value).trim() !== "") {
        params.append(name, value);
      }
    });
    // Defaults and a radius without a place only lengthen a shared URL.
    if (params.get("sort") === "date") {
      params.delete("sort");
    }
    if (!params.get("near")) {
      params.delete("radius_km");
    }
    return params.toString();
  }

  function update(url, push) {
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    form.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "text/html" }, signal: pending.signal })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("results");
        var current = document.getElementById("results");
        if (!fresh || !current) {
          window.location.assign(url);
          return;
        }
        current.replaceWith(document.adoptNode(fresh));
        document.title = page.title;
        var languages = page.querySelector(".languages");
        var oldLanguages = document.querySelector(".languages");
        if (languages && oldLanguages) {
          oldLanguages.replaceWith(document.adoptNode(languages));
        }
        var summary = page.querySelector(".workshops .summary-value");
        var oldSummary = document.querySelector(".workshops .summary-value");
        if (summary && oldSummary) {
          oldSummary.textContent = summary.textContent;
        }
        if (push) {
          window.history.pushState({ multifresque: true }, "", url);
          shownSearch = window.location.search;
        }
        var heading = document.getElementById("results-heading");
        if (liveStatus && heading) {
          liveStatus.textContent = heading.textContent;
        }
        setUpMap();
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          window.location.assign(url);
        }
      })
      .finally(function () { form.removeAttribute("aria-busy"); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    update("/?" + formQuery(), true);
  });

  form.addEventListener("change", function (event) {
    // Text boxes update on Enter (submit); other controls update as soon as they change.
    if (event.target.type === "search") {
      return;
    }
    update("/?" + formQuery(), true);
  });

  // Back and forward between searches reload the page, so the form shows that search too.
  // A jump to an anchor (the skip link) also fires popstate but keeps the query string.
  var shownSearch = window.location.search;
  window.addEventListener("popstate", function () {
    if (window.location.search !== shownSearch) {
      window.location.reload();
    }
  });

  // ---- Map --------------------------------------------------------------------------

  function loadLeaflet(box) {
    if (window.L) {
      return Promise.resolve(window.L);
    }
    if (!leafletLoading) {
      leafletLoading = new Promise(function (resolve, reject) {
        var style = document.createElement("link");
        style.rel = "stylesheet";
        style.href = box.dataset.leafletCss;
        document.head.appendChild(style);
        var script = document.createElement("script");
        script.src = box.dataset.leafletJs;
        script.onload = function () { resolve(window.L); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return leafletLoading;
  }

  function popup(point) {
    var content = document.createElement("div");
    var title = document.createElement("a");
    title.href = point.href;
    title.textContent = point.title;
    var when = document.createElement("p");
    when.textContent = point.when;
    var place = document.createElement("p");
    place.textContent = point.place;
    content.append(title, when, place);
    return content;
  }

  function draw(box, points) {
    loadLeaflet(box).then(function (L) {
      if (currentMap) {
        currentMap.remove();
        currentMap = null;
      }
      var map = L.map(box, { scrollWheelZoom: false });
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
      L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: 19,
        attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
      }).addTo(map);
      var bounds = [];
      points.forEach(function (point) {
        L.circleMarker([point.lat, point.lon], {
          radius: 8, weight: 2, color: "#08513a", fillColor: "#0b6e4f", fillOpacity: 0.85,
        }).bindPopup(popup(point)).addTo(map);
        bounds.push([point.lat, point.lon]);
      });
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 13 });
      currentMap = map;
    }).catch(function () {
      var message = document.createElement("p");
      message.className = "map-message";
      message.textContent = box.dataset.unavailable;
      box.replaceChildren(message);
    });
  }

  function setUpMap() {
    var data = document.getElementById("map-data");
    var box = document.getElementById("map");
    var toggle = document.getElementById("map-toggle");
    if (currentMap) {
      currentMap.remove();
      currentMap = null;
    }
    if (!data || !box || !toggle) {
      return;
    }
    var points = JSON.parse(data.textContent);

    function show(visible) {
      box.hidden = !visible;
      toggle.setAttribute("aria-expanded", String(visible));
      toggle.textContent = visible ? toggle.dataset.hide : toggle.dataset.show;
      if (visible && !currentMap) {
        draw(box, points);
      }
    }

    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      mapWanted = box.hidden;
      show(mapWanted);
    });
    show(mapWanted === null ? wideScreen.matches : mapWanted);
  }

  setUpMap();
})();
