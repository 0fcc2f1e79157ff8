// An offline reference of the API, drawn from /openapi.json (FastAPI's Swagger UI
// loads its scripts from a CDN; this page loads nothing from elsewhere).
"use strict";

let document_ = null;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text != null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function resolve(schema) {
  if (schema && schema.$ref) {
    const name = schema.$ref.split("/").pop();
    return { name, schema: document_.components.schemas[name] };
  }
  return { name: null, schema };
}

function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return `${typeOf(schema.items)}[]`;
  if (schema.type === "object" && schema.additionalProperties) {
    return `{string: ${typeOf(schema.additionalProperties)}}`;
  }
  return schema.format ? `${schema.type} (${schema.format})` : schema.type || "any";
}

function propertiesTable(schema) {
  const { name, schema: body } = resolve(schema);
  const wrapper = element("div");
  if (name) wrapper.append(element("p", `Schema ${name}`, "muted"));
  if (!body || !body.properties) {
    wrapper.append(element("code", typeOf(schema)));
    return wrapper;
  }
  const table = element("table");
  const head = table.insertRow();
  for (const title of ["field", "type", "description"]) head.append(element("th", title));
  const required = new Set(body.required || []);
  for (const [field, spec] of Object.entries(body.properties)) {
    const row = table.insertRow();
    row.insertCell().append(element("code", field + (required.has(field) ? " *" : "")));
    row.insertCell().textContent = typeOf(spec);
    row.insertCell().textContent = spec.description || "";
  }
  wrapper.append(table);
  return wrapper;
}

function operation(path, method, spec) {
  const box = element("section", null, "operation");
  const title = element("h2");
  title.append(element("span", method, `method ${method}`), element("span", path, "path"),
               element("span", spec.summary || "", "muted"));
  box.append(title);
  if (spec.description) box.append(element("p", spec.description));
  if (spec.requestBody) {
    for (const [type, content] of Object.entries(spec.requestBody.content)) {
      box.append(element("h3", `Request body: ${type}`), propertiesTable(content.schema));
    }
  }
  box.append(element("h3", "Responses"));
  const table = element("table");
  for (const [code, answer] of Object.entries(spec.responses || {})) {
    const row = table.insertRow();
    row.insertCell().append(element("code", code));
    row.insertCell().textContent = answer.description || "";
    const json = answer.content && answer.content["application/json"];
    row.insertCell().textContent = json ? typeOf(json.schema) : "";
  }
  box.append(table);
  return box;
}

async function main() {
  const reference = document.getElementById("reference");
  try {
    const response = await fetch("/openapi.json");
    document_ = await response.json();
  } catch (error) {
    document.getElementById("loading").textContent = `Cannot load /openapi.json (${error}).`;
    return;
  }
  reference.replaceChildren();
  const info = document_.info;
  reference.append(element("p", `${info.title} ${info.version}: ${info.description || ""}`));
  for (const [path, methods] of Object.entries(document_.paths)) {
    for (const [method, spec] of Object.entries(methods)) {
      reference.append(operation(path, method, spec));
    }
  }
  reference.append(element("h2", "Schemas"));
  for (const name of Object.keys(document_.components.schemas).sort()) {
    const box = element("section", null, "operation");
    box.id = `schema-${name}`;
    box.append(element("h3", name), propertiesTable({ $ref: `#/components/schemas/${name}` }));
    reference.append(box);
  }
}

document.addEventListener("DOMContentLoaded", main);
