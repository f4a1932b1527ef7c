// The feeds page: submit a feed URL, watch FetchFeedJob fetch it, then list its items.
import { bindForm } from "./job-view.js";

/** Only http(s) links become anchors: a feed is untrusted input (no javascript: URLs). */
function safeLink(link) {
  try {
    const url = new URL(link);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function renderFeed(feed, into) {
  const title = document.createElement("h2");
  title.textContent = feed.title ?? "(untitled feed)";
  const list = document.createElement("ul");
  list.className = "items";
  for (const item of feed.items) {
    const entry = document.createElement("li");
    const href = item.link && safeLink(item.link);
    const label = href ? Object.assign(document.createElement("a"), { href }) : document.createElement("span");
    label.textContent = item.title ?? "(untitled)";
    entry.append(label);
    if (item.published) {
      const time = document.createElement("time");
      time.dateTime = item.published;
      time.textContent = item.published.slice(0, 10);
      entry.append(time);
    }
    list.append(entry);
  }
  into.replaceChildren(title, list);
}

bindForm(document.getElementById("feed-form"), "/feeds", (data) => ({ url: data.get("url") }), renderFeed);
