// Apollo Client 4 against a running server, configured only as the README says:
// the endpoint and `Authorization: Bearer ...`. Prints one JSON line of findings.
// Usage: node apollo.mjs GRAPHQL_URL STAFF_TOKEN ADMIN_TOKEN
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';

const [uri, staffToken, adminToken] = process.argv.slice(2);
if (!uri || !staffToken || !adminToken) {
  console.error('usage: node apollo.mjs GRAPHQL_URL STAFF_TOKEN ADMIN_TOKEN');
  process.exit(2);
}

const clientFor = (token) =>
  new ApolloClient({
    link: new HttpLink({ uri, headers: { authorization: `Bearer ${token}` } }),
    cache: new InMemoryCache(),
  });

const UPCOMING = gql`
  query Upcoming($from: DateTime!) {
    bookings(first: 3, filter: { startsFrom: $from, status: [CONFIRMED] }) {
      edges { node { id reference status } }
    }
  }
`;
const CANCEL = gql`
  mutation Cancel($id: ID!) {
    cancelBooking(id: $id) { booking { id status } }
  }
`;
const GRANTABLE = gql`
  query Grantable { grantableFields { id role field } }
`;
const VIEWER = gql`
  query Viewer { viewer { kind } }
`;

const findings = {};
const staff = clientFor(staffToken);
const variables = { from: new Date().toISOString() };

const first = await staff.query({ query: UPCOMING, variables });
const bookings = first.data.bookings.edges.map((edge) => edge.node);
findings.query = { count: bookings.length, statuses: bookings.map((b) => b.status) };

const target = bookings[0];
const cancelled = await staff.mutate({ mutation: CANCEL, variables: { id: target.id } });
// No refetch and no hand-written update: the cached query sees the new status
// because Booking is normalised by its id.
const cached = staff.readQuery({ query: UPCOMING, variables });
findings.mutation = {
  returned: cancelled.data.cancelBooking.booking.status,
  cachedStatus: cached.bookings.edges.find((edge) => edge.node.id === target.id).node.status,
};

const admin = clientFor(adminToken);
await admin.query({ query: GRANTABLE });
const keys = Object.keys(admin.cache.extract());
findings.normalised = {
  partnerGrants: keys.filter((key) => key.startsWith('PartnerGrant:')).length,
};

const stranger = clientFor('not-a-valid-token');
try {
  await stranger.query({ query: VIEWER });
  findings.unauthenticated = { thrown: false };
} catch (error) {
  findings.unauthenticated = {
    thrown: true,
    graphQLErrors: CombinedGraphQLErrors.is(error),
    codes: CombinedGraphQLErrors.is(error) ? error.errors.map((e) => e.extensions?.code) : [],
    name: error.name,
  };
}

console.log(JSON.stringify(findings));
