/*
 * Crossword Hints: small comforts on top of pages that work without scripts.
 *
 * - Cue-word suggestions: site search boxes and cue-word fields get a <datalist>
 *   filled from the autocomplete API as the user types, so the browser shows
 *   its own accessible suggestion list.
 * - Delete confirmation: a link to a record's delete page opens a dialog
 *   holding that page's own form, so the user confirms without leaving the
 *   page. Without scripts the link leads to the same confirmation page.
 *
 * Loaded with `defer` from the site itself; it adds no inline script or style,
 * so the Content-Security-Policy `script-src 'self'; style-src 'self'` holds.
 */
(function () {
  "use strict";

  var SUGGEST_DELAY_MS = 150;
  var SUGGEST_MIN_CHARS = 1;
  var SUGGEST_MAX = 10;

  /* ---- Cue-word suggestions ------------------------------------------- */

  // The API returns {"query": ..., "suggestions": ["word", ...]}.
  function suggestionWords(payload) {
    var words = payload && Array.isArray(payload.suggestions) ? payload.suggestions : [];
    return words.filter(function (word) {
      return typeof word === "string";
    }).slice(0, SUGGEST_MAX);
  }

  var listCount = 0;

  function attachSuggestions(input, endpoint) {
    if (input.hasAttribute("list") || input.dataset.suggestionsAttached) {
      return;
    }
    input.dataset.suggestionsAttached = "true";

    listCount += 1;
    var datalist = document.createElement("datalist");
    datalist.id = "cue-word-suggestions-" + listCount;
    input.insertAdjacentElement("afterend", datalist);
    input.setAttribute("list", datalist.id);

    var timer = null;
    var controller = null;
    var cache = Object.create(null);

    function show(words) {
      datalist.replaceChildren.apply(
        datalist,
        words.map(function (word) {
          var option = document.createElement("option");
          option.value = word;
          return option;
        })
      );
    }

    function fetchWords(query) {
      if (cache[query]) {
        show(cache[query]);
        return;
      }
      if (controller) {
        controller.abort();
      }
      controller = typeof AbortController === "function" ? new AbortController() : null;

      var url = endpoint + "?q=" + encodeURIComponent(query);
      fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          // An error response means no suggestions; the search still works.
          return response.ok ? response.json() : [];
        })
        .then(function (payload) {
          var words = suggestionWords(payload);
          cache[query] = words;
          if (input.value.trim() === query) {
            show(words);
          }
        })
        .catch(function (error) {
          if (!error || error.name !== "AbortError") {
            show([]);
          }
        });
    }

    input.addEventListener("input", function () {
      var query = input.value.trim();
      window.clearTimeout(timer);
      if (query.length < SUGGEST_MIN_CHARS) {
        show([]);
        return;
      }
      timer = window.setTimeout(function () {
        fetchWords(query);
      }, SUGGEST_DELAY_MS);
    });
  }

  function initSuggestions() {
    var endpoint = document.body.dataset.autocompleteUrl;
    if (!endpoint || typeof window.fetch !== "function") {
      return;
    }
    var inputs = document.querySelectorAll(
      'input[data-autocomplete], form[role="search"] input[name="q"], input[name="cue_word"]'
    );
    inputs.forEach(function (input) {
      attachSuggestions(input, input.dataset.autocomplete || endpoint);
    });
  }

  /* ---- Delete confirmation -------------------------------------------- */

  var dialog = null;
  var openedFrom = null;

  function buildDialog() {
    var element = document.createElement("dialog");
    element.className = "confirm-dialog";
    element.setAttribute("aria-labelledby", "confirm-dialog-title");
    element.innerHTML =
      '<h2 id="confirm-dialog-title"></h2>' +
      '<div class="confirm-dialog-body"></div>' +
      '<div class="actions">' +
      '<button type="button" class="secondary" data-dialog-cancel>Cancel</button>' +
      "</div>";
    element
      .querySelector("[data-dialog-cancel]")
      .addEventListener("click", function () {
        element.close();
      });
    // Escape and Cancel both close the dialog; focus goes back to the link.
    element.addEventListener("close", function () {
      if (openedFrom && document.contains(openedFrom)) {
        openedFrom.focus();
      }
      openedFrom = null;
    });
    document.body.appendChild(element);
    return element;
  }

  // A paragraph that is only a link ("Back to ...") leads where Cancel does.
  function isLinkOnly(node) {
    var link = node.firstElementChild;
    return (
      node.tagName === "P" &&
      node.children.length === 1 &&
      link.tagName === "A" &&
      node.textContent.trim() === link.textContent.trim()
    );
  }

  function hiddenInputs(form) {
    return form.querySelectorAll('input[type="hidden"]');
  }

  // Build the dialog from the confirmation page itself, so the question, any
  // refusal ("still used by ...") and the CSRF token are exactly the page's.
  function openConfirmation(link, page) {
    var heading = page.querySelector("main h1");
    var form = page.querySelector('main form[method="post"], main form[method="POST"]');
    if (!heading) {
      return false;
    }

    dialog = dialog || buildDialog();
    dialog.querySelector("#confirm-dialog-title").textContent = heading.textContent.trim();

    var body = dialog.querySelector(".confirm-dialog-body");
    body.replaceChildren();
    page.querySelectorAll("main > p, main .flash, main .error-message, main dl").forEach(
      function (node) {
        if (!isLinkOnly(node)) {
          body.appendChild(document.importNode(node, true));
        }
      }
    );

    var actions = dialog.querySelector(".actions");
    actions.querySelectorAll("form").forEach(function (old) {
      old.remove();
    });

    if (form) {
      var submit = form.querySelector('button[type="submit"], button:not([type]), input[type="submit"]');
      var copy = document.createElement("form");
      copy.method = "post";
      copy.action = new URL(form.getAttribute("action") || link.href, link.href).href;
      copy.className = "inline";
      hiddenInputs(form).forEach(function (input) {
        copy.appendChild(document.importNode(input, true));
      });
      var button = document.createElement("button");
      button.type = "submit";
      button.className = "danger";
      button.textContent = submit ? submit.textContent.trim() || submit.value : "Delete";
      copy.appendChild(button);
      actions.insertBefore(copy, actions.firstChild);
    }

    // With nothing to confirm (a refused delete) the one button just closes.
    var cancel = dialog.querySelector("[data-dialog-cancel]");
    cancel.textContent = form ? "Cancel" : "Close";

    openedFrom = link;
    dialog.showModal();
    cancel.focus();
    return true;
  }

  function isDeleteLink(link) {
    if (link.dataset.confirm === "off") {
      return false;
    }
    if (link.hasAttribute("data-confirm")) {
      return true;
    }
    try {
      var url = new URL(link.href, window.location.href);
      return url.origin === window.location.origin && /\/delete\/?$/.test(url.pathname);
    } catch (error) {
      return false;
    }
  }

  function onLinkClick(event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || !isDeleteLink(link)) {
      return;
    }
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();

    fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok && response.status !== 409) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        if (!openConfirmation(link, page)) {
          window.location.assign(link.href);
        }
      })
      .catch(function () {
        // When the fetch fails, the plain confirmation page still works.
        window.location.assign(link.href);
      });
  }

  // A form with a data-confirm question (restore, undelete) asks it in the
  // browser's own confirm box before it posts, which works by keyboard too.
  function onFormSubmit(event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }

  function initConfirmations() {
    if (typeof HTMLDialogElement !== "function" || typeof window.fetch !== "function") {
      return;
    }
    document.addEventListener("click", onLinkClick);
    document.addEventListener("submit", onFormSubmit);
  }

  /* ---- Start ---------------------------------------------------------- */

  function start() {
    initSuggestions();
    initConfirmations();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
