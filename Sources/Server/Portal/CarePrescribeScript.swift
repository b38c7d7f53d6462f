extension Portal {
    /// `/static/recetar.js` (also served as `/static/firma.js`): the practitioner's signature on
    /// the form with `data-prescriber` — *Recetar* (docs/prescribing.md, "The prescriber's
    /// signature"), *Registrar consulta* and *Corregir nota* (docs/care.md#the-consultation).
    /// On its `paso=firmar` button (*Firmar y emitir receta*, *Firmar y guardar consulta*) it
    /// 1. takes this browser's key pair for the signed-in practitioner from IndexedDB, or makes one
    ///    with WebCrypto (ECDSA P-256, the private key **not extractable**: it never leaves the
    ///    browser) and keeps it there;
    /// 2. registers the public key (JWK) on the practitioner (`POST /firma/llave`; idempotent) and
    ///    gets its `kid` (the RFC 7638 thumbprint); a key revoked on *Mis llaves de firma* is
    ///    refused there (422), and the browser then makes and registers a new one;
    /// 3. asks the server for the content exactly as it will be stored (`paso=preparar`:
    ///    the canonical JSON to sign and the sealed preparation);
    /// 4. signs it — a detached ES256 JWS, `BASE64URL(header)..BASE64URL(r‖s)` — and sends the
    ///    form with `firma` and `preparacion`.
    /// Any failure (no WebCrypto, a refused form) submits the form as it is, so the server shows
    /// why; a prescriber with a key cannot issue an unsigned prescription.
    static let prescribeScript = """
        (function () {
          "use strict";
          var form = document.querySelector("form[data-prescriber]");
          if (!form || !window.crypto || !window.crypto.subtle || !window.indexedDB) { return; }
          var who = form.getAttribute("data-prescriber") || "";
          var status = document.getElementById("firma-estado");
          function say(text) { if (status) { status.textContent = text; } }
          function b64url(bytes) {
            var s = "";
            for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
            return btoa(s).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
          }
          function utf8(text) { return new TextEncoder().encode(text); }
          function db() {
            return new Promise(function (resolve, reject) {
              var open = indexedDB.open("enlace-firma", 1);
              open.onupgradeneeded = function () { open.result.createObjectStore("llaves"); };
              open.onsuccess = function () { resolve(open.result); };
              open.onerror = function () { reject(open.error); };
            });
          }
          function stored(d) {
            return new Promise(function (resolve, reject) {
              var r = d.transaction("llaves", "readonly").objectStore("llaves").get(who);
              r.onsuccess = function () { resolve(r.result || null); };
              r.onerror = function () { reject(r.error); };
            });
          }
          function keep(d, pair) {
            return new Promise(function (resolve, reject) {
              var tx = d.transaction("llaves", "readwrite");
              tx.objectStore("llaves").put(pair, who);
              tx.oncomplete = function () { resolve(pair); };
              tx.onerror = function () { reject(tx.error); };
            });
          }
          function keyPair() {
            return db().then(function (d) {
              return stored(d).then(function (pair) {
                if (pair) { return pair; }
                return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
                  .then(function (p) { return keep(d, p); });
              });
            });
          }
          function post(url, fields) {
            var body = new URLSearchParams();
            Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
            return fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
              .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
          }
          var signing = false;
          form.addEventListener("submit", function (event) {
            var button = event.submitter;
            if (!button || button.value !== "firmar" || form.elements.firma.value || signing) { return; }
            event.preventDefault();
            signing = true;
            say(form.getAttribute("data-signing") || "");
            var csrf = form.elements.csrf.value;
            var pair;
            function register(p) {
              pair = p;
              return crypto.subtle.exportKey("jwk", p.publicKey).then(function (jwk) {
                var pub = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
                return post("/firma/llave", { csrf: csrf, jwk: JSON.stringify(pub) });
              });
            }
            keyPair().then(function (p) {
              return register(p).catch(function (e) {
                if (e.message !== "422") { throw e; }
                // this browser's key was revoked: a new one replaces it
                return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
                  .then(function (fresh) { return db().then(function (d) { return keep(d, fresh); }); })
                  .then(register);
              });
            }).then(function (registered) {
              var fields = {};
              new FormData(form).forEach(function (v, k) { fields[k] = v; });
              fields.paso = "preparar";
              return post(form.action, fields).then(function (prepared) {
                var header = b64url(utf8(JSON.stringify({ alg: "ES256", kid: registered.kid })));
                var input = utf8(header + "." + prepared.payload);
                return crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, input).then(function (sig) {
                  form.elements.firma.value = header + ".." + b64url(new Uint8Array(sig));
                  form.elements.preparacion.value = prepared.preparacion;
                });
              });
            }).catch(function () {
              // the server says why (a wrong field, a missing signature)
            }).then(function () {
              form.requestSubmit(button);
            });
          });
        })();
        """
}
