// Drag and drop for the issue editor: an item dropped on another goes before it, in that
// item's section; dropped on a section's heading, to the end of that section. The move is
// the same form post as the buttons make (the buttons remain, for the keyboard).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const editor = document.querySelector("[data-move-url]");
  if (!editor) return;
  let dragged = null;

  const move = (uid, section, position) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = editor.dataset.moveUrl;
    const fields = { uid, section, made_on: editor.dataset.madeOn };
    const token = document.querySelector("input[name=csrf]");
    if (token) fields.csrf = token.value;
    if (position) fields.position = String(position);
    for (const [name, value] of Object.entries(fields)) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  };

  for (const item of editor.querySelectorAll("article.item[data-uid]")) {
    item.draggable = true;
    item.addEventListener("dragstart", (event) => {
      dragged = item;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.uid);
    });
    item.addEventListener("dragend", () => { dragged = null; });
  }
  for (const target of editor.querySelectorAll("[data-drop-section]")) {
    target.addEventListener("dragover", (event) => {
      if (dragged && dragged !== target) {
        event.preventDefault();
        target.classList.add("drop");
      }
    });
    target.addEventListener("dragleave", () => target.classList.remove("drop"));
    target.addEventListener("drop", (event) => {
      event.preventDefault();
      target.classList.remove("drop");
      if (!dragged || dragged === target) return;
      const position = target.dataset.dropPosition || "";
      move(dragged.dataset.uid, target.dataset.dropSection, position);
    });
  }
});
