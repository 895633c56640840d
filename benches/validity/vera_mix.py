import csv, collections, sys
f = sys.argv[1]
rows = [r for r in csv.DictReader(open(f)) if r['self_initiated'] == 'N']
c = collections.Counter(r['vera_category'] or '(unlabelled)' for r in rows)
n = len(rows)
print('public rows', n)
for k, v in c.most_common(): print('  %-40s %6d %5.1f' % (k, v, 100*v/n))
g = collections.Counter()
for k, v in c.items():
    if k in ('Complaints/Environmental Conditions', 'Alarms', 'Statuses'): g['public order (complaints, alarms, checks)'] += v
    elif k == 'Suspicion': g['suspicion'] += v
    elif k in ('Accidents/Traffic Safety', 'Traffic', 'Medical Emergencies', 'Behavioral Health', 'Fire'): g['emergency services'] += v
    elif k == 'Violent Crime': g['violent crime'] += v
    elif k in ('Property Crime', 'Other Crimes', 'Domestic Violence', 'Drugs', 'Sex Offenses', 'Warrants', 'Status Offenses'): g['other crime'] += v
    else: g['other / unlabelled'] += v
print('grouped (Vera labels):')
for k, v in g.most_common(): print('  %-45s %6d %5.1f' % (k, v, 100*v/n))
