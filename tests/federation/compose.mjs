// Composes customer360's subgraph (its `_service { sdl }`, fetched from a running server) with a tiny second
// subgraph that adds reviews to customers, using Apollo's composition library. Prints a JSON summary.
// Usage: CUSTOMER360_TOKEN=... node compose.mjs http://127.0.0.1:PORT/graphql
import { composeServices } from "@apollo/composition";
import { buildSchema, parse } from "graphql";

const REVIEWS = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

type Customer @key(fields: "id") {
  id: ID!
  reviews: [Review!]!
}

type Review {
  stars: Int!
  text: String!
}

type Query {
  topReviews: [Review!]!
}
`;

const url = process.argv[2];
const response = await fetch(url, {
  method: "POST",
  headers: {
    "Content-Type": "application/json",
    Authorization: `Bearer ${process.env.CUSTOMER360_TOKEN}`,
  },
  body: JSON.stringify({ query: "{ _service { sdl } }" }),
});
const body = await response.json();
if (!body.data) {
  console.log(JSON.stringify({ fetched: false, body }));
  process.exit(0);
}
const sdl = body.data._service.sdl;
const result = composeServices([
  { name: "customer360", url, typeDefs: parse(sdl) },
  { name: "reviews", url: "http://reviews.invalid/graphql", typeDefs: parse(REVIEWS) },
]);
const summary = { fetched: true, errors: (result.errors ?? []).map((e) => e.message) };
if (!result.errors) {
  const api = result.schema.toAPISchema().toGraphQLJSSchema();
  const customer = api.getType("Customer");
  summary.customerFields = Object.keys(customer.getFields()).sort();
  summary.queryFields = Object.keys(api.getQueryType().getFields()).sort();
  // The types customer360 resolves as entities by id, read from the supergraph's join directives.
  const joined = (definition) =>
    (definition.directives ?? []).some(
      (d) =>
        d.name.value === "join__type" &&
        d.arguments.some((a) => a.name.value === "graph" && a.value.value === "CUSTOMER360") &&
        d.arguments.some((a) => a.name.value === "key" && a.value.value === "id"),
    );
  summary.entityKeys = parse(result.supergraphSdl)
    .definitions.filter((d) => d.kind === "ObjectTypeDefinition" && joined(d))
    .map((d) => d.name.value)
    .sort();
  // The supergraph SDL is itself a valid GraphQL schema document.
  buildSchema(result.supergraphSdl, { assumeValidSDL: true });
}
console.log(JSON.stringify(summary));
