"""Per-call comparison on the Detroit-like file: classifier-only (v2 shipped, v1 frozen) vs the
Detroit crosswalk (callsift's) vs Vera's human label (truth file)."""
import csv, collections
truth = {r['incident_id']: r for r in csv.DictReader(open('detroit_like_truth.csv'))}
def load(n):
    return {r['call_id']: r for r in csv.DictReader(open('calls_%s.csv' % n))}
def elig(n):
    d = collections.defaultdict(dict)
    for r in csv.DictReader(open('elig_%s.csv' % n)):
        d[r['call_id']][r['scenario']] = r
    return d
xw = load('detroit_like'); exw = elig('detroit_like')
FL = ['weapon','violence','medical','in_progress','imminent_danger','insufficient_info','bh_nexus','conflict','police_type']
for n in ['detroit_nocw', 'detroit_nocw_v1']:
    c = load(n); e = elig(n)
    for scope in ['all', 'public']:
        ids = [i for i in c if scope == 'all' or c[i]['self_initiated'] == 'false']
        N = len(ids)
        cat = [i for i in ids if c[i]['category_source'] == 'classifier']
        lab = [i for i in cat if truth[i]['vera_category'] not in ('', 'Callback', 'Status Offenses')]
        agree_v = sum(1 for i in lab if c[i]['category'] == truth[i]['vera_category'])
        agree_x = sum(1 for i in cat if c[i]['category'] == xw[i]['category'])
        flags_same = sum(1 for i in cat if all(c[i][f] == xw[i][f] for f in FL))
        print('%s [%s calls] n=%d categorised=%d (%.1f%%) unmapped=%d (%.1f%%)' % (n, scope, N, len(cat), 100*len(cat)/N, N-len(cat), 100*(N-len(cat))/N))
        print('   agrees with Vera label (of categorised & Vera-labelled, %d): %.1f%%' % (len(lab), 100*agree_v/len(lab)))
        print('   agrees with crosswalk category (of categorised): %.1f%%; all 9 flags identical to crosswalk: %.1f%%' % (100*agree_x/len(cat), 100*flags_same/len(cat)))
        if scope == 'public':
            for s in ['broad', 'bh_nexus_required', 'no_police_types', 'narrowest']:
                same = sum(1 for i in ids if e[i][s]['eligible'] == exw[i][s]['eligible'])
                print('   %s: same eligible/not-eligible decision as with the crosswalk: %.1f%% of public calls; reason identical %.1f%%' % (
                    s, 100*same/N, 100*sum(1 for i in ids if e[i][s]['reason'] == exw[i][s]['reason'])/N))
            unm = collections.Counter(c[i]['initial_type'] for i in ids if c[i]['category_source'] == 'unmapped')
            print('   top unmapped public types:', unm.most_common(6))
            dis = collections.Counter((xw[i]['category'], c[i]['category']) for i in cat if c[i]['category'] != xw[i]['category'])
            print('   top category disagreements with crosswalk (crosswalk -> classifier):', dis.most_common(6))
