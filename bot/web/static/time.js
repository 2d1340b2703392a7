// Progressive enhancement: every <time datetime="..." data-local> is shown in the visitor's own timezone, and every
// <time data-until> counts down. Without JavaScript the page shows the club's time zone, written by the server.
(function () {
  "use strict";
  var when = new Intl.DateTimeFormat(undefined, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short"
  });
  function left(ms) {
    if (ms <= 0) { return "closing now"; }
    var minutes = Math.round(ms / 60000);
    if (minutes < 60) { return minutes + (minutes === 1 ? " minute left" : " minutes left"); }
    var hours = Math.floor(minutes / 60);
    if (hours < 48) { return hours + (hours === 1 ? " hour left" : " hours left"); }
    var days = Math.floor(hours / 24);
    return days + " days left";
  }
  function enhance() {
    var now = Date.now();
    document.querySelectorAll("time[data-local]").forEach(function (node) {
      var moment = new Date(node.getAttribute("datetime"));
      if (!isNaN(moment.getTime())) { node.textContent = when.format(moment); }
    });
    document.querySelectorAll("time[data-until]").forEach(function (node) {
      var moment = new Date(node.getAttribute("datetime"));
      if (!isNaN(moment.getTime())) { node.textContent = left(moment.getTime() - now); }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
}());
