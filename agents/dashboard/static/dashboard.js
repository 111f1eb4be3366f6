// Resonance's live dashboard: polls live.json once a second and draws it.
// Every string from the stream (user ids, hashtags, tweet ids, alert evidence) is inserted as
// text (textContent, createTextNode, SVG text nodes), never as markup.
"use strict";

(function () {
  const POLL_MS = 1000;
  const STALE_SECONDS = 15;
  const SVG = "http://www.w3.org/2000/svg";
  const state = { sort: {}, selectedCascade: null, charts: {}, alertTypes: new Set(), severities: new Set() };

  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "number") {
      if (Number.isInteger(value)) return value.toLocaleString("en-US");
      return value.toFixed(digits === undefined ? 2 : digits);
    }
    return String(value);
  }

  function setText(id, value) {
    document.getElementById(id).textContent = value;
  }

  function sum(object) {
    return Object.values(object || {}).reduce((a, b) => a + b, 0);
  }

  function describe(object) {
    return Object.entries(object || {}).filter(([, v]) => v !== 0).map(([k, v]) => `${k}: ${fmt(v)}`).join(", ");
  }

  function span(seconds) {
    const units = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
    const [size, name] = units.find(([size]) => Math.abs(seconds) >= size) || [1, "s"];
    return `${fmt(seconds / size, 1)} ${name}`;
  }

  function epoch(iso) {
    return Date.parse(iso) / 1000;
  }

  // A sortable table: columns are [key, label, kind], kind "text" left-aligned.
  function renderTable(id, columns, rows, options) {
    const table = document.getElementById(id);
    const sort = state.sort[id];
    let shown = rows.slice();
    if (sort) {
      shown.sort((a, b) => {
        const x = a[sort.key], y = b[sort.key];
        const order = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1;
        return sort.descending ? -order : order;
      });
    }
    const head = el("tr", {}, columns.map(([key, label]) => {
      const arrow = sort && sort.key === key ? (sort.descending ? " ▼" : " ▲") : "";
      const th = el("th", { text: label + arrow, scope: "col" });
      th.addEventListener("click", () => {
        const descending = !(sort && sort.key === key && sort.descending);
        state.sort[id] = { key, descending };
        render(state.last);
      });
      return th;
    }));
    const body = shown.map((row) => {
      const tr = el("tr", {}, columns.map(([key, , kind, format]) => {
        const value = format ? format(row[key], row) : fmt(row[key]);
        return el("td", { text: value, class: kind === "text" ? "text" : "" });
      }));
      if (options && options.onSelect) {
        tr.className = "selectable" + (options.selected === row[options.key] ? " selected" : "");
        tr.addEventListener("click", () => options.onSelect(row));
      }
      if (options && options.title) tr.title = options.title(row);
      return tr;
    });
    table.replaceChildren(el("thead", {}, [head]), el("tbody", {}, body));
  }

  function chart(id, labels, data, range) {
    const target = document.getElementById(id);
    const width = Math.max(240, target.clientWidth || 400);
    if (typeof uPlot === "undefined") return;
    const colors = ["#4fb3ff", "#3fb950", "#d29922", "#f85149", "#bc8cff"];
    let plot = state.charts[id];
    if (!plot || plot.series.length !== labels.length + 1) {
      if (plot) plot.destroy();
      target.replaceChildren();
      plot = new uPlot({
        width, height: 160,
        scales: { x: { time: true }, y: range ? { range } : {} },
        axes: [{ stroke: "#8b98a5", grid: { stroke: "#2a3540" } }, { stroke: "#8b98a5", grid: { stroke: "#2a3540" } }],
        series: [{ label: "event time (UTC)" }, ...labels.map((label, i) => ({ label, stroke: colors[i % colors.length], width: 2, spanGaps: true }))],
      }, data, target);
      state.charts[id] = plot;
    } else {
      if (Math.abs(plot.width - width) > 20) plot.setSize({ width, height: 160 });
      plot.setData(data);
    }
  }

  function renderHeader(doc) {
    const header = doc.header || {};
    setText("kpi-rate", fmt(header.accepted_per_second, 1));
    setText("kpi-accepted", fmt(header.accepted_total));
    setText("kpi-dead", fmt(sum(header.dead_letters_by_reason)));
    setText("kpi-dead-detail", describe(header.dead_letters_by_reason));
    setText("kpi-late", fmt(sum(header.late_events)));
    setText("kpi-late-detail", describe(header.late_events));
    setText("kpi-lag", fmt(sum(header.consumer_lag)));
    setText("kpi-lag-detail", describe(header.consumer_lag));
    setText("kpi-partitions", Object.entries(header.partitions || {}).map(([t, p]) => `${t} ${p.join(",")}`).join(" · ") || "none yet");
    setText("kpi-event-time", doc.event_time ? doc.event_time.replace("T", " ").replace("Z", " UTC") : "–");
    if (doc.event_time) {
      const behind = doc.now - epoch(doc.event_time);
      setText("kpi-clock", `${span(behind)} behind the clock (now ${new Date(doc.now * 1000).toISOString().slice(11, 19)} UTC)`);
    }
    const status = document.getElementById("status");
    if (doc.waiting) {
      status.className = "status waiting";
      status.textContent = "Waiting for data: no record published yet";
    } else if (doc.stale_seconds > STALE_SECONDS) {
      status.className = "status stale";
      status.textContent = `Stale: no new record for ${fmt(Math.round(doc.stale_seconds))} s`;
    } else {
      status.className = "status live";
      status.textContent = `Live: ${fmt(doc.records_seen)} records`;
    }
  }

  function renderInfluence(doc) {
    const summary = doc.influence.summary;
    if (summary) {
      setText("influence-summary",
        `Spearman ρ of followers vs retweets received: all ${fmt(summary.spearman_followers_retweets)}, ` +
        `top 10% ${fmt(summary.spearman_followers_retweets_top10)}, top 1% ${fmt(summary.spearman_followers_retweets_top1)}; ` +
        `collective share ${fmt(summary.collective_share)}; ${fmt(summary.active_users)} active users, ` +
        `${fmt(summary.micro_influencers)} micro-influencers (★).`);
    }
    renderTable("leaderboard", [
      ["rank", "#"],
      ["user_id", "user", "text", (v, r) => (r.micro_influencer ? "★ " : "") + v],
      ["score", "engaged influence", "", (v) => fmt(v, 3)],
      ["followers", "followers"],
      ["follower_rank", "follower rank"],
      ["rank_shift", "rank shift", "", (v) => (v > 0 ? `▲ ${v}` : v < 0 ? `▼ ${-v}` : "0")],
      ["retweets_received", "retweets"],
      ["replies_received", "replies"],
      ["cascades_started", "cascades"],
    ], doc.influence.leaderboard);
    const series = doc.influence.series;
    const x = series.at.map(epoch);
    chart("chart-spearman", ["all", "top 10%", "top 1%"], [x, series.spearman_followers_retweets,
      series.spearman_followers_retweets_top10, series.spearman_followers_retweets_top1], [-1, 1]);
    chart("chart-collective", ["collective share"], [x, series.collective_share], [0, 1]);
  }

  function renderHashtags(doc) {
    const filter = document.getElementById("hashtag-filter").value.trim().toLowerCase();
    const rows = doc.hashtags.filter((r) => !filter || r.tag.toLowerCase().includes(filter));
    renderTable("hashtag-table", [
      ["tag", "hashtag", "text", (v) => "#" + v],
      ["count", "tweets"],
      ["users", "users"],
      ["burst_z", "burst z", "", (v) => fmt(v, 1)],
      ["camp_shares", "camp shares", "text", (v) => (v ? v.map(([camp, share]) => `${camp}: ${Math.round(share * 100)}%`).join(" ") : "–")],
      ["leaning_entropy", "leaning (bits)", "", (v) => fmt(v, 2)],
    ], rows);
  }

  function renderGraph(doc) {
    const graph = doc.hashtag_graph;
    const target = document.getElementById("graph");
    if (!graph) { target.replaceChildren(); return; }
    setText("graph-note", `${fmt(graph.nodes)} hashtags, ${fmt(graph.edges)} pairs in the window; the heaviest ${graph.top_pairs.length} pairs drawn (line width: tweets using both).`);
    const tags = [...new Set(graph.top_pairs.flatMap(([a, b]) => [a, b]))].slice(0, 40);
    const position = new Map(tags.map((tag, i) => {
      const angle = (2 * Math.PI * i) / tags.length;
      return [tag, [300 + 170 * Math.cos(angle), 210 + 170 * Math.sin(angle)]];
    }));
    const heaviest = Math.max(1, ...graph.top_pairs.map((p) => p[2]));
    const nodes = [];
    for (const [a, b, weight] of graph.top_pairs) {
      if (!position.has(a) || !position.has(b)) continue;
      const [x1, y1] = position.get(a), [x2, y2] = position.get(b);
      nodes.push(svg("line", { x1, y1, x2, y2, class: "edge", "stroke-width": 0.5 + 5 * (weight / heaviest) }));
    }
    for (const [tag, [x, y]] of position) {
      nodes.push(svg("circle", { cx: x, cy: y, r: 5, class: "node" }));
      const anchor = x < 300 ? "end" : "start";
      nodes.push(svg("text", { x: x + (x < 300 ? -8 : 8), y: y + 4, "text-anchor": anchor }, "#" + tag));
    }
    target.replaceChildren(...nodes);
  }

  function renderCascades(doc) {
    renderTable("cascade-table", [
      ["root_id", "root tweet", "text"],
      ["root_user_id", "author", "text"],
      ["size", "size"],
      ["depth", "depth"],
      ["max_breadth", "breadth"],
      ["structural_virality", "virality", "", (v) => fmt(v, 2)],
      ["depth_percentile", "depth pct", "", (v) => (v === null ? "–" : `${Math.round(v * 100)}%`)],
      ["virality_percentile", "virality pct", "", (v) => (v === null ? "–" : `${Math.round(v * 100)}%`)],
    ], doc.cascades, {
      key: "root_id",
      selected: state.selectedCascade,
      onSelect: (row) => { state.selectedCascade = row.root_id; render(state.last); },
    });
    const trees = doc.trees || {};
    if (state.selectedCascade === null) {
      const first = doc.cascades.find((c) => trees[c.root_id]);
      if (first) state.selectedCascade = first.root_id;
    }
    const selected = doc.cascades.find((c) => c.root_id === state.selectedCascade);
    const shape = document.getElementById("cascade-shape");
    if (!selected) { shape.replaceChildren(); return; }
    const tree = trees[selected.root_id];
    setText("cascade-selected", `Cascade of tweet ${selected.root_id} by ${selected.root_user_id}: ${fmt(selected.size)} tweets, ` +
      `${fmt(selected.depth)} generations, widest generation ${fmt(selected.max_breadth)}, structural virality ${fmt(selected.structural_virality)}, ` +
      `growing ${fmt(selected.growth_rate_per_hour, 1)} tweets/h.` +
      (tree ? (tree.truncated ? ` Tree: its first ${fmt(tree.nodes.length)} tweets, generation by generation.` : "")
        : " Its tree is not published: the worker publishes the trees of the 5 largest cascades."));
    shape.replaceChildren(...(tree ? drawTree(tree) : []));
  }

  // A layered drawing: the root on top, one row per generation, each row spread evenly.
  function drawTree(tree) {
    const depth = [0];
    tree.parents.forEach((parent, i) => { depth[i + 1] = depth[parent] + 1; });
    const rows = [];
    depth.forEach((d, i) => { (rows[d] = rows[d] || []).push(i); });
    const position = [];
    const rowHeight = Math.min(60, 260 / Math.max(1, rows.length - 1));
    rows.forEach((row, d) => row.forEach((node, k) => {
      position[node] = [20 + (560 * (k + 0.5)) / row.length, 20 + d * rowHeight];
    }));
    const nodes = [];
    tree.parents.forEach((parent, i) => {
      const [x1, y1] = position[parent], [x2, y2] = position[i + 1];
      nodes.push(svg("line", { x1, y1, x2, y2, class: "edge" }));
    });
    position.forEach(([x, y], i) => {
      const circle = svg("circle", { cx: x, cy: y, r: i === 0 ? 6 : 3, class: "node" });
      circle.appendChild(svg("title", {}, i === 0 ? `${tree.nodes[0]} by ${tree.root_user_id}` : tree.nodes[i]));
      nodes.push(circle);
    });
    return nodes;
  }

  function renderLayers(doc) {
    renderTable("layer-table", [
      ["layer", "layer", "text"],
      ["users", "users"],
      ["count", "communities"],
      ["segregation", "segregation", "", (v) => (v === null ? "suppressed" : fmt(v, 3))],
      ["rwc_z", "z", "", (v) => fmt(v, 1)],
      ["two_camp_share", "two-camp share", "", (v) => fmt(v, 2)],
      ["modularity", "modularity", "", (v) => fmt(v, 2)],
      ["ei_index", "E-I", "", (v) => fmt(v, 2)],
      ["suppressed", "why suppressed", "text", (v) => v || ""],
    ], doc.layers, { title: (row) => row.suppressed || "" });
    if (doc.layers.length) {
      const times = [...new Set(doc.layers.flatMap((l) => l.series.at))].sort();
      const columns = doc.layers.map((l) => {
        const byTime = new Map(l.series.at.map((t, i) => [t, l.series.segregation[i]]));
        return times.map((t) => (byTime.has(t) ? byTime.get(t) : null));
      });
      chart("chart-segregation", doc.layers.map((l) => l.layer), [times.map(epoch), ...columns]);
    }
  }

  const CAMP_COLORS = ["#4fb3ff", "#f85149", "#3fb950", "#d29922", "#bc8cff", "#39c5cf", "#ff7b72", "#8b98a5"];

  // Each community a disc of its own, side by side, coloured by its users' camp; users on a
  // sunflower spiral inside it, the best ranked in the middle; radius by engaged influence.
  function renderUserGraph(doc) {
    const graph = doc.user_graph;
    const target = document.getElementById("user-graph");
    if (!graph || !graph.users.length) { target.replaceChildren(); return; }
    setText("user-graph-note", `Retweet layer: the ${fmt(graph.users.length)} best ranked of ${fmt(graph.active_users)} active users ` +
      `(${fmt(graph.edges.length)} of ${fmt(graph.active_edges)} retweet edges), one disc per community, coloured by camp, sized by engaged influence`);
    const groups = [...new Set(graph.users.map((u) => u[2]))].sort((a, b) => (a === null) - (b === null) || a - b);
    const columns = Math.min(groups.length, 8), rows = Math.ceil(groups.length / columns);
    const cellWidth = 1200 / columns, cellHeight = 400 / rows;
    const position = new Map();
    const best = Math.max(...graph.users.map((u) => u[1]), 1e-9);
    const largest = Math.max(...groups.map((c) => graph.users.filter((u) => u[2] === c).length));
    const nodes = [];
    groups.forEach((community, g) => {
      const members = graph.users.filter((u) => u[2] === community);
      const cx = cellWidth * ((g % columns) + 0.5), cy = 24 + cellHeight * (Math.floor(g / columns) + 0.5);
      const radius = Math.max(10, (Math.min(cellWidth, cellHeight) / 2 - 22) * Math.sqrt(members.length / largest));
      members.forEach((u, k) => {
        const r = radius * Math.sqrt((k + 0.5) / members.length);
        const angle = k * 2.39996;
        position.set(u[0], [cx + r * Math.cos(angle), cy + r * Math.sin(angle), u[3], u[1]]);
      });
      nodes.push(svg("text", { x: cx, y: cy - Math.min(cellWidth, cellHeight) / 2 + 12, "text-anchor": "middle" },
        community === null ? "not placed" : `community ${community} (${members.length})`));
    });
    for (const [a, b] of graph.edges) {
      if (!position.has(a) || !position.has(b)) continue;
      const [x1, y1] = position.get(a), [x2, y2] = position.get(b);
      nodes.unshift(svg("line", { x1, y1, x2, y2, class: "edge", "stroke-opacity": 0.2 }));
    }
    for (const [user, [x, y, camp, score]] of position) {
      const color = camp === null ? "#8b98a5" : CAMP_COLORS[camp % CAMP_COLORS.length];
      const circle = svg("circle", { cx: x, cy: y, r: 2 + 7 * (score / best), fill: color, "fill-opacity": 0.85 });
      circle.appendChild(svg("title", {}, `${user}: camp ${camp === null ? "none" : camp}, influence ${fmt(score, 3)}`));
      nodes.push(circle);
    }
    target.replaceChildren(...nodes);
  }

  function renderClusters(doc) {
    renderTable("cluster-table", [
      ["key", "cluster", "text"],
      ["account_count", "accounts"],
      ["accounts", "members", "text", (v) => v.join(" ")],
      ["co_retweets", "co-retweets"],
      ["shared_tweet_count", "shared tweets"],
      ["median_lag_seconds", "median lag (s)", "", (v) => fmt(v, 1)],
      ["lift", "lift", "", (v) => fmt(v, 1)],
      ["bot_likeness", "bot-likeness", "text", (v) => describe(v)],
    ], doc.coordination, { title: (row) => row.accounts.join(", ") });
  }

  function syncOptions(id, values) {
    const select = document.getElementById(id);
    const known = new Set([...select.options].map((o) => o.value));
    for (const value of values) {
      if (!known.has(value)) select.appendChild(el("option", { value, text: value }));
    }
  }

  function renderAlerts(doc) {
    syncOptions("alert-type", new Set(doc.alerts.map((a) => a.type)));
    syncOptions("alert-severity", new Set(doc.alerts.map((a) => a.severity)));
    const type = document.getElementById("alert-type").value;
    const severity = document.getElementById("alert-severity").value;
    const shown = doc.alerts.filter((a) => (!type || a.type === type) && (!severity || a.severity === severity));
    const items = shown.slice(0, 200).map((alert) => el("li", { class: "alert" }, [
      el("span", { class: `sev ${alert.severity}`, text: alert.severity }),
      el("strong", { text: `${alert.type} ` }),
      el("span", { class: "subject", text: alert.subject }),
      el("span", { class: "when", text: `  at ${alert.at}` }),
      el("pre", { text: JSON.stringify(alert.evidence, null, 1) }),
    ]));
    if (!items.length) items.push(el("li", { text: doc.alerts.length ? "No alert matches the filters." : "No alert yet." }));
    document.getElementById("alert-feed").replaceChildren(...items);
  }

  function render(doc) {
    if (!doc) return;
    state.last = doc;
    renderHeader(doc);
    renderInfluence(doc);
    renderHashtags(doc);
    renderGraph(doc);
    renderCascades(doc);
    renderLayers(doc);
    renderUserGraph(doc);
    renderClusters(doc);
    renderAlerts(doc);
    document.body.dataset.renderedAt = String(Date.now());
    document.body.dataset.records = String(doc.records_seen);
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  }

  async function poll() {
    const started = performance.now();
    try {
      const response = await fetch("live.json", { cache: "no-store", credentials: "same-origin" });
      if (response.ok) {
        const doc = await response.json();
        const drawing = performance.now();
        render(doc);
        document.body.dataset.renderMs = String(Math.round(performance.now() - drawing));
      } else {
        setText("status", `The worker answered ${response.status}`);
      }
    } catch (error) {
      const status = document.getElementById("status");
      status.className = "status stale";
      status.textContent = "The worker does not answer: is it running?";
    }
    setTimeout(poll, Math.max(0, POLL_MS - (performance.now() - started)));
  }

  document.getElementById("hashtag-filter").addEventListener("input", () => render(state.last));
  document.getElementById("alert-type").addEventListener("change", () => render(state.last));
  document.getElementById("alert-severity").addEventListener("change", () => render(state.last));
  poll();
})();
