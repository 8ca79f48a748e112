#include "report/assets.hpp"

#include <array>
#include <cstdint>

namespace papersim::report_detail {

const char* const kStyle = R"CSS(
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#fff;--soft:#f4f6fa;--accent:#2457c5;--dup:#c8402f}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{position:sticky;top:0;z-index:2;background:#1d2a44;color:#fff;padding:10px 24px;display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 24px}
header h1{font-size:19px;margin:0}
header nav a{color:#cfe0ff;margin-right:14px;text-decoration:none}
header nav a:hover{text-decoration:underline}
main{max-width:1280px;margin:0 auto;padding:8px 24px 40px}
h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid var(--line)}
.note{color:var(--muted);margin:6px 0 10px}
h3{font-size:16px;margin:20px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0 14px}
.card{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:8px 16px;min-width:150px;color:var(--muted)}
.card .big{font-size:22px;font-weight:600;color:var(--fg)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}
table.kv th{width:220px;color:var(--muted);font-weight:500}
code{font:13px/1.3 ui-monospace,"DejaVu Sans Mono",monospace;background:var(--soft);padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
pre{white-space:pre-wrap;max-height:240px;overflow:auto}
svg.hist{width:100%;max-width:900px;height:auto;display:block;margin-top:6px}
svg .axis{stroke:#333;stroke-width:1}
svg .tick{stroke:#333}
svg .grid{stroke:#e6e9ef}
svg .tl{font-size:11px;fill:#444}
svg .bars rect{fill:#6d8fd6}
svg .bars rect.dup{fill:var(--dup)}
svg .bars rect:hover{fill:#1d2a44}
svg .thr{stroke:var(--dup);stroke-width:2;stroke-dasharray:5 3}
svg .thrl{font-size:12px;font-weight:600;fill:var(--dup)}
svg .log{display:none}
#logscale:checked~svg .log{display:inline}
#logscale:checked~svg .lin{display:none}
details.cluster{border:1px solid var(--line);border-radius:8px;margin:10px 0;padding:0 12px 8px;background:#fff}
details.cluster>summary{cursor:pointer;padding:8px 0;font-weight:600}
.size{display:inline-block;background:var(--dup);color:#fff;border-radius:10px;padding:0 8px;font-size:12px;margin-right:6px}
table.members{font-size:13px;margin-bottom:8px}
table.members tr.rep td{background:#fbf6e9}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tag{display:inline-block;font-size:11px;font-weight:500;background:#e8ecf4;color:#3b4658;border-radius:8px;padding:0 7px;margin-left:4px}
.tag.same{background:#e3f2e5;color:#21602b}
.pair{border-top:1px dashed var(--line);padding-top:6px;margin-top:6px}
.ph{font-size:13px;margin-bottom:4px}
.dn{color:var(--muted);font-variant-numeric:tabular-nums}
.vs{color:var(--muted)}
.score{font-weight:600;font-variant-numeric:tabular-nums}
.sbs{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.side{background:var(--soft);border-radius:6px;padding:8px 10px;font-size:13.5px;overflow-wrap:anywhere}
.sh{font-size:11px;color:var(--muted);margin-bottom:2px}
del{background:#ffd7d5;color:#82071e;text-decoration:line-through}
ins{background:#ccf0d2;color:#0f5323;text-decoration:none}
details.text>summary{cursor:pointer;color:var(--muted);font-size:13px}
details.text p{font-size:13.5px;background:var(--soft);padding:8px 10px;border-radius:6px;overflow-wrap:anywhere}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:8px 0}
#q{flex:1 1 320px;font-size:15px;padding:6px 10px;border:1px solid #aab3c2;border-radius:6px}
button,select{font-size:14px;padding:4px 10px}
#rel-info{color:var(--muted)}
table.related td{font-size:13.5px}
table.related .t{font-weight:600}
table.related .m{color:var(--muted);font-size:12px}
table.related ol{margin:0;padding-left:22px}
table.related ol a{color:var(--accent);text-decoration:none}
table.related ol a:hover{text-decoration:underline}
table.related .s{color:var(--muted);font-variant-numeric:tabular-nums;margin-left:6px}
#errbar{background:#b00020;color:#fff;padding:8px 24px;font-weight:600}
footer{color:var(--muted);font-size:12px;text-align:center;padding:16px}
@media (max-width:800px){.sbs{grid-template-columns:1fr}}
)CSS";

// Rows are built with textContent only, never innerHTML: input text cannot become markup.
const char* const kScript = R"JS(
(function () {
  'use strict';
  var root = document.documentElement, errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message || e));
    root.setAttribute('data-script-errors', errors.join(' | '));
    var bar = document.getElementById('errbar');
    if (bar) { bar.hidden = false; bar.textContent = 'Script error: ' + errors.join(' | '); }
  });
  var t0 = performance.now();
  var D = JSON.parse(document.getElementById('report-data').textContent);
  var docs = D.docs, best = D.best, nb = D.nb, scale = D.scale, PAGE = D.page;
  var q = document.getElementById('q'), sortSel = document.getElementById('sort');
  var body = document.getElementById('rel-body'), info = document.getElementById('rel-info');
  var prev = document.getElementById('prev'), next = document.getElementById('next');
  var all = new Array(docs.length), low = null, order, page = 0;
  for (var i = 0; i < docs.length; i++) all[i] = i;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(s) { return s < 0 ? '\u2014' : (s / scale).toFixed(4); }
  function filter() {
    var s = q.value.trim().toLowerCase();
    if (!s) {
      order = all.slice();
    } else {
      if (!low) low = docs.map(function (d) { return (d[1] + '\u0001' + d[0]).toLowerCase(); });
      order = [];
      for (var i = 0; i < low.length; i++) if (low[i].indexOf(s) >= 0) order.push(i);
    }
    if (sortSel.value === 'best') order.sort(function (a, b) { return best[b] - best[a] || a - b; });
    page = 0;
    render();
  }
  function render() {
    var pages = Math.max(1, Math.ceil(order.length / PAGE));
    if (page >= pages) page = pages - 1;
    var start = page * PAGE, end = Math.min(order.length, start + PAGE);
    var frag = document.createDocumentFragment();
    for (var r = start; r < end; r++) {
      var d = order[r], doc = docs[d], tr = el('tr');
      tr.appendChild(el('td', 'dn', '#' + d));
      var td = el('td');
      td.appendChild(el('div', 't', doc[1] || '(untitled)'));
      td.appendChild(el('div', 'm', doc[0] + (doc[2] ? ' \u00b7 ' + doc[2] : '')));
      tr.appendChild(td);
      tr.appendChild(el('td', 'num', fmt(best[d])));
      var cell = el('td');
      if (nb) {
        var list = nb[d], ol = el('ol');
        for (var j = 0; j + 1 < list.length; j += 2) {
          var other = docs[list[j]], li = el('li'), a = el('a', '', other[1] || other[0]);
          a.href = '#q=' + encodeURIComponent(other[0]);
          a.title = other[0];
          li.appendChild(a);
          li.appendChild(el('span', 's', fmt(list[j + 1])));
          ol.appendChild(li);
        }
        if (list.length) cell.appendChild(ol); else cell.textContent = 'no neighbours';
      }
      tr.appendChild(cell);
      frag.appendChild(tr);
    }
    body.textContent = '';
    body.appendChild(frag);
    info.textContent = order.length ? (start + 1) + '\u2013' + end + ' of ' + order.length +
        ' papers (page ' + (page + 1) + ' of ' + pages + ')' : 'no paper matches';
    prev.disabled = page === 0;
    next.disabled = page + 1 >= pages;
  }
  // Clusters beyond those in the page: members only, from D.cl, a page at a time.
  var cl = D.cl || [], clList = document.getElementById('cl-list'), cpage = 0;
  function renderClusters() {
    if (!clList) return;
    var pages = Math.max(1, Math.ceil(cl.length / PAGE));
    var start = cpage * PAGE, end = Math.min(cl.length, start + PAGE);
    var frag = document.createDocumentFragment();
    for (var i = start; i < end; i++) {
      var c = cl[i], det = el('details', 'cluster lazy'), sum = el('summary');
      det.id = 'cluster-' + c[0];
      sum.appendChild(el('span', 'size', ((c.length - 2) / 2) + ' papers'));
      sum.appendChild(document.createTextNode(' ' + (docs[c[1]][1] || '(untitled)')));
      det.appendChild(sum);
      var table = el('table', 'members'), tb = el('tbody'), hr = el('tr');
      ['doc', 'title', 'id', 'source', 'score to rep.'].forEach(function (h) { hr.appendChild(el('th', '', h)); });
      table.appendChild(el('thead')).appendChild(hr);
      for (var j = 2; j + 1 < c.length; j += 2) {
        var m = docs[c[j]], tr = el('tr', c[j] === c[1] ? 'rep' : '');
        tr.appendChild(el('td', '', '#' + c[j]));
        tr.appendChild(el('td', '', m[1]));
        tr.appendChild(el('td')).appendChild(el('code', '', m[0]));
        tr.appendChild(el('td')).appendChild(el('code', '', m[2]));
        tr.appendChild(el('td', 'num', fmt(c[j + 1])));
        tb.appendChild(tr);
      }
      table.appendChild(tb);
      det.appendChild(table);
      frag.appendChild(det);
    }
    clList.textContent = '';
    clList.appendChild(frag);
    document.getElementById('cl-info').textContent = (start + 1) + '\u2013' + end + ' of ' +
        cl.length + ' (page ' + (cpage + 1) + ' of ' + pages + ')';
    document.getElementById('cprev').disabled = cpage === 0;
    document.getElementById('cnext').disabled = cpage + 1 >= pages;
  }
  if (clList) {
    document.getElementById('cprev').addEventListener('click', function () { cpage--; renderClusters(); });
    document.getElementById('cnext').addEventListener('click', function () { cpage++; renderClusters(); });
    renderClusters();
  }
  function fromHash() {
    if (location.hash.indexOf('#q=') !== 0) return false;
    try { q.value = decodeURIComponent(location.hash.slice(3)); } catch (e) { return false; }
    return true;
  }
  var timer = null;
  q.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(filter, 120); });
  sortSel.addEventListener('change', filter);
  prev.addEventListener('click', function () { page--; render(); });
  next.addEventListener('click', function () { page++; render(); });
  window.addEventListener('hashchange', function () {
    if (fromHash()) { filter(); document.getElementById('related').scrollIntoView(); }
  });
  fromHash();
  filter();
  // Timings for the browser test: script work, and time since navigation started.
  root.setAttribute('data-render-ms', (performance.now() - t0).toFixed(1));
  root.setAttribute('data-open-ms', performance.now().toFixed(1));
  window.addEventListener('load', function () {
    root.setAttribute('data-load-ms', performance.now().toFixed(1));
  });
  root.setAttribute('data-ready', '1');
})();
)JS";

namespace {

// FIPS 180-4 SHA-256, only to name the inline script and style in the CSP.
class Sha256 {
 public:
  void update(std::string_view data) {
    for (unsigned char c : data) {
      block_[fill_++] = c;
      ++length_;
      if (fill_ == 64) {
        compress();
        fill_ = 0;
      }
    }
  }
  std::array<unsigned char, 32> finish() {
    const std::uint64_t bits = length_ * 8;
    block_[fill_++] = 0x80;
    if (fill_ > 56) {
      while (fill_ < 64) block_[fill_++] = 0;
      compress();
      fill_ = 0;
    }
    while (fill_ < 56) block_[fill_++] = 0;
    for (int i = 7; i >= 0; --i) block_[fill_++] = static_cast<unsigned char>(bits >> (8 * i));
    compress();
    std::array<unsigned char, 32> out{};
    for (int i = 0; i < 8; ++i) {
      for (int b = 0; b < 4; ++b)
        out[4 * i + b] = static_cast<unsigned char>(h_[i] >> (24 - 8 * b));
    }
    return out;
  }

 private:
  static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void compress() {
    static const std::uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (std::uint32_t{block_[4 * i]} << 24) | (std::uint32_t{block_[4 * i + 1]} << 16) |
             (std::uint32_t{block_[4 * i + 2]} << 8) | std::uint32_t{block_[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6],
                  h = h_[7];
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const std::uint32_t ch = (e & f) ^ (~e & g);
      const std::uint32_t t1 = h + s1 + ch + k[i] + w[i];
      const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const std::uint32_t t2 = s0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }
  std::uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  unsigned char block_[64] = {};
  std::size_t fill_ = 0;
  std::uint64_t length_ = 0;
};

}  // namespace

std::string sha256_base64(std::string_view data) {
  Sha256 sha;
  sha.update(data);
  const auto digest = sha.finish();
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < digest.size(); i += 3) {
    std::uint32_t v = std::uint32_t{digest[i]} << 16;
    if (i + 1 < digest.size()) v |= std::uint32_t{digest[i + 1]} << 8;
    if (i + 2 < digest.size()) v |= digest[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < digest.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < digest.size() ? kAlphabet[v & 63] : '=');
  }
  return out;
}

std::string content_security_policy() {
  return "default-src 'none'; script-src 'sha256-" + sha256_base64(kScript) +
         "'; style-src 'sha256-" + sha256_base64(kStyle) +
         "'; img-src data:; base-uri 'none'; form-action 'none'";
}

}  // namespace papersim::report_detail
