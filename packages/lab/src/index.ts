export type {
  DnsBehaviour,
  DnsQueryLog,
  DnsRecords,
  DnsServerOptions,
  LabDnsServer,
} from './dns-server.js'
export { startDnsServer } from './dns-server.js'
