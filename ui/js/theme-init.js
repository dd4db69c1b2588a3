// Apply the chosen theme before the first paint (a classic script in <head>, so no flash).
// Only the theme choice lives in localStorage; never the token.
try {
  var t = localStorage.getItem("qorven.theme");
  if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
} catch (e) { /* storage disabled */ }
